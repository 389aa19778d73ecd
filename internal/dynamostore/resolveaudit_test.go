package dynamostore_test

import (
	"testing"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storetest"
)

func TestAResolveWritesOneAuditItemOfOneWriteUnit(t *testing.T) {
	srv := dynalite.Start(t)
	client := srv.Client(t)
	var table string
	storetest.RunResolveAudit(t, func(t *testing.T) secrets.Store {
		table = srv.NewTable(t)
		return dynamostore.New(client, table)
	}, func(t *testing.T, org, id string) int {
		return itemSize(getAuditItem(t, client, table, org, id))
	}, 50, 1000)
}
