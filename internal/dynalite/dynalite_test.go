package dynalite_test

import (
	"net"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
)

func TestServerServesTablesAndStopsWithTheTest(t *testing.T) {
	var addr string
	t.Run("a started server creates tables with the store's schema", func(t *testing.T) {
		srv := dynalite.Start(t)
		u, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatalf("server URL %q: %v", srv.URL, err)
		}
		if got, want := u.Hostname(), "127.0.0.1"; got != want {
			t.Errorf("server host = %q, want %q (loopback only)", got, want)
		}
		addr = u.Host

		client := srv.Client(t)
		first, second := srv.NewTable(t), srv.NewTable(t)
		if first == second {
			t.Fatalf("two tables share the name %s", first)
		}
		out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(first)})
		if err != nil {
			t.Fatalf("DescribeTable: %v", err)
		}
		if got, want := out.Table.TableStatus, "ACTIVE"; string(got) != want {
			t.Errorf("table status = %s, want %s", got, want)
		}
		var indexes []string
		for _, gsi := range out.Table.GlobalSecondaryIndexes {
			indexes = append(indexes, aws.ToString(gsi.IndexName))
		}
		slices.Sort(indexes)
		if got, want := indexes, []string{dynamostore.IndexGSI1, dynamostore.IndexGSI2}; !slices.Equal(got, want) {
			t.Errorf("indexes = %v, want %v", got, want)
		}
	})
	if addr == "" {
		return // skipped, or failed before it started
	}
	// The subtest's cleanup stopped the server: nothing listens there now.
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("dynalite still accepts connections on %s after its test ended", addr)
	}
}
