package dynalite_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/emulator"
)

func TestServerServesTablesAndStopsWithTheTest(t *testing.T) {
	emulator.RunStopsWithItsTest(t, "a started server creates tables with the store's schema", func(t *testing.T) string {
		srv := dynalite.Start(t)
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
		return srv.URL
	})
}
