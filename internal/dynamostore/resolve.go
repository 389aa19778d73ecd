package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// resolveProjection is what a resolve reads of a head item: its key and
// kind (decodeHead checks them), the fields that bind a value to its
// record (id, org, layer, name, version), the owner (the effective view
// shows it) and one environment's value. Descriptions, times, rotation
// policies, index keys and the other environments' ciphertexts stay in
// the table: most of an item's bytes.
const resolveProjection = "#pk, #sk, #type, #id, #org, #layer, #name, #version, #owner, #values.#env"

// resolveLayer reads one layer's heads as ListSecretsIn returns them,
// ordered by name, with one strongly consistent Query (one per page).
// The projection cuts the bytes sent and decoded, not the read units: a
// Query is charged for the items it reads, whole.
func (s *Store) resolveLayer(ctx context.Context, org string, layer secrets.Layer, env secrets.Environment) ([]*secrets.Secret, error) {
	if _, err := secrets.ParseEnvironment("environment", string(env)); err != nil {
		return nil, err
	}
	probe, err := headKey(org, layer, "x")
	if err != nil {
		return nil, nil // no head can be stored there
	}
	return queryAll(ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :names)"),
		ProjectionExpression:   aws.String(resolveProjection),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#sk": AttrSK, "#type": AttrType,
			"#id": attrID, "#org": attrOrg, "#layer": attrLayer, "#name": attrName, "#version": attrVersion,
			"#owner": attrOwner, "#values": attrValues, "#env": string(env),
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(probe.pk), ":names": str(namePrefix)},
		ConsistentRead:            aws.Bool(true),
	}, decodeHead)
}
