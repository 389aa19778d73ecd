package dynamostore

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Key parts are joined by sep. Org ids, secret ids, names, environments and
// layer parts never hold it (the domain's rules allow letters, digits, '-'
// and '_'), and the store refuses parts that do, so keys never collide and
// a key read back splits one way only.
const sep = "#"

// Attributes of the id pointer item, beside the key attributes: the key
// of the head it points at. Key-layer attributes are CamelCase; the
// records' own attributes (records.go) are snake_case, so the two never
// collide.
const (
	attrHeadPK = "HeadPK"
	attrHeadSK = "HeadSK"
	// attrPending marks a pointer whose create or delete is under way
	// (pendingCreate, pendingDelete); such a pointer is also in its org's
	// leftovers partition of GSI2 until the write is done.
	attrPending = "Pending"
)

const (
	pendingCreate = "create"
	pendingDelete = "delete"
)

// Item kinds, in AttrType.
const (
	typeOrg      = "org"
	typeSecret   = "secret"
	typeSecretID = "secret_id"
	typeVersion  = "version"
	typeToken    = "token"
	typeDataKey  = "data_key"
	typeAudit    = "audit"
)

// Partition-key prefixes of the item kinds: every item of a kind has a
// partition key that starts with its prefix. Infrastructure code limits
// each function to the kinds it uses with IAM conditions on these
// (dynamodb:LeadingKeys).
const (
	PrefixOrg      = "O" + sep // organization settings
	PrefixHead     = "S" + sep // a secret's current version, by org, layer and name
	PrefixSecretID = "I" + sep // a secret's id pointer to its head
	PrefixVersion  = "V" + sep // a secret's history
	PrefixToken    = "T" + sep // API tokens and IAM registrations, by id
	PrefixDataKey  = "K" + sep // wrapped data keys
	PrefixAudit    = "A" + sep // audit records
	PrefixManifest = "M" + sep // audit manifests: the lists of names resolves hand out
)

// Fixed key parts.
const (
	rotationPrefix = "ROT"  // GSI2PK of an org's heads with a rotation policy: ROT#org
	orgsPartition  = "ORGS" // GSI2PK of every org item, so the rotation sweep can list orgs
	leftoverPrefix = "LEFT" // GSI2PK of an org's id pointers whose create or delete is under way: LEFT#org
	orgSK          = "O"
	secretIDSK     = "I"
	namePrefix     = "N" + sep // a head's sort key: N#name
	tokenSK        = "T"
)

// key is an item's primary key.
type key struct{ pk, sk string }

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(k.pk), AttrSK: str(k.sk)}
}

// keyOf returns the primary key of item.
func keyOf(item map[string]types.AttributeValue) key {
	return key{stringAttr(item, AttrPK), stringAttr(item, AttrSK)}
}

// sameItem reports whether stored is the item written. A conditional
// write whose condition fails although the table holds exactly what it
// writes is a write that landed before: the SDK retries a request whose
// answer was lost (a timeout, a 500), and the retry finds its own item.
func sameItem(stored, written map[string]types.AttributeValue) bool {
	return stored != nil && reflect.DeepEqual(stored, written)
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// checkParts refuses parts that would make a key ambiguous: empty ones and
// ones holding the separator.
func checkParts(parts ...string) error {
	for _, p := range parts {
		if p == "" {
			return secrets.Invalid("key", "an id, name or org is empty")
		}
		if strings.Contains(p, sep) {
			return secrets.Invalid("key", "an id, name or org holds %q", sep)
		}
	}
	return nil
}

// checkLayer refuses layers whose key would be ambiguous.
func checkLayer(l secrets.Layer) error {
	if l.Machine != "" && l.App == "" {
		return secrets.Invalid("layer", "a machine layer needs its app")
	}
	for _, p := range []string{l.App, l.Machine} {
		if strings.ContainsAny(p, sep+"/") {
			return secrets.Invalid("layer", "an app or machine id holds %q or '/'", sep)
		}
	}
	return nil
}

// notFoundIfInvalid is for reads: a key no record can have (an empty id, a
// separator from a URL) names an absent record, not a broken request.
func notFoundIfInvalid(err error) error {
	if err != nil {
		return secrets.ErrNotFound
	}
	return nil
}

func join(parts ...string) string { return strings.Join(parts, sep) }

// The keys of each item kind. Numbers in sort keys are zero-padded to 20
// digits, so that they sort as numbers.

func orgKey(org string) (key, error) {
	return key{PrefixOrg + org, orgSK}, checkParts(org)
}

func headKey(org string, layer secrets.Layer, name string) (key, error) {
	if err := checkParts(org, name); err != nil {
		return key{}, err
	}
	if err := checkLayer(layer); err != nil {
		return key{}, err
	}
	return key{PrefixHead + join(org, layer.Key()), namePrefix + name}, nil
}

func secretIDKey(org, id string) (key, error) {
	return key{PrefixSecretID + join(org, id), secretIDSK}, checkParts(org, id)
}

func versionPK(org, id string) (string, error) {
	return PrefixVersion + join(org, id), checkParts(org, id)
}

func versionSK(n int64) string { return fmt.Sprintf("%020d", n) }

func versionKey(org, id string, n int64) (key, error) {
	pk, err := versionPK(org, id)
	if err != nil {
		return key{}, err
	}
	if n < 1 {
		return key{}, secrets.Invalid("version", "must be 1 or more, not %d", n)
	}
	return key{pk, versionSK(n)}, nil
}

func tokenKey(id string) (key, error) {
	return key{PrefixToken + id, tokenSK}, checkParts(id)
}

func dataKeyKey(org string, env secrets.Environment, generation int) (key, error) {
	return key{PrefixDataKey + org, join(string(env), strconv.Itoa(generation))}, checkParts(org, string(env))
}

func auditPK(org string) (string, error) { return PrefixAudit + org, checkParts(org) }

// GSI keys.

func layersPK(org string) string { return join("L", org) }

func tokensPK(org string) string { return join("TOK", org) }

// timeSK is a time as a sortable key part: unix nanoseconds, zero-padded.
// Times before 1970 sort as 1970 (no policy or token is that old).
func timeSK(t time.Time) string { return fmt.Sprintf("%020d", max(t.UnixNano(), 0)) }

// rotationPK is the GSI2 partition of org's heads with a rotation policy:
// one per org, so that the sweep can share its batch among orgs.
func rotationPK(org string) string { return join(rotationPrefix, org) }

// leftoversPK is the GSI2 partition of org's id pointers whose create or
// delete is under way, by the time it started: the sweep finds there what
// an interrupted one left.
func leftoversPK(org string) string { return join(leftoverPrefix, org) }

func rotationSK(s *secrets.Secret) string { return join(timeSK(s.Rotation.NextAt), s.ID) }

func parseLayerKey(k string) (secrets.Layer, error) { return secrets.ParseLayerKey(k) }

// decodeHead decodes a head item with the org, layer and name of its key,
// and refuses it if its body names others: storage is untrusted, and an
// item copied under another key must not pass for the secret that key
// names.
func decodeHead(item map[string]types.AttributeValue) (*secrets.Secret, error) {
	k := keyOf(item)
	org, layer, name, err := parseHeadKey(k)
	if err != nil {
		return nil, secrets.Internalf(err, "malformed head key %s/%s", k.pk, k.sk)
	}
	return decodeSecret(item, secrets.Place{Org: org, Layer: &layer, Name: name})
}

// parseHeadKey returns the org, layer and name a head key names.
func parseHeadKey(k key) (org string, layer secrets.Layer, name string, err error) {
	rest, isHead := strings.CutPrefix(k.pk, PrefixHead)
	name, isName := strings.CutPrefix(k.sk, namePrefix)
	org, layerKey, _ := strings.Cut(rest, sep)
	if !isHead || !isName || org == "" || strings.Contains(layerKey, sep) {
		return "", secrets.Layer{}, "", errors.New("not the key of a head")
	}
	layer, err = parseLayerKey(layerKey)
	return org, layer, name, err
}

// decodeVersion decodes a history item with the org, id and version of its
// key.
func decodeVersion(item map[string]types.AttributeValue) (*secrets.Secret, error) {
	k := keyOf(item)
	rest, ok := strings.CutPrefix(k.pk, PrefixVersion)
	org, id, _ := strings.Cut(rest, sep)
	n, err := strconv.ParseInt(k.sk, 10, 64)
	if !ok || org == "" || id == "" || strings.Contains(id, sep) || err != nil {
		return nil, secrets.Internalf(err, "malformed version key %s/%s", k.pk, k.sk)
	}
	return decodeSecret(item, secrets.Place{Org: org, ID: id, Version: n})
}

func decodeSecret(item map[string]types.AttributeValue, at secrets.Place) (*secrets.Secret, error) {
	k := keyOf(item)
	if typ := stringAttr(item, AttrType); typ != typeSecret && typ != typeVersion {
		return nil, secrets.Internalf(nil, "integrity error: the item at %s/%s is a %q, not a secret", k.pk, k.sk, typ)
	}
	r, err := decodeItem[records.Secret](item)
	if err != nil {
		return nil, err
	}
	sec := r.Domain()
	if err := at.Check(sec, k.pk+"/"+k.sk); err != nil {
		return nil, err
	}
	sec.TightenMasks()
	return sec, nil
}

// stringAttr returns item's string attribute name, or "".
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// numberAttr returns item's number attribute name, or 0.
func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

// Items of each kind.

func secretItem(s *secrets.Secret) (map[string]types.AttributeValue, error) {
	k, err := headKey(s.Org, s.Layer, s.Name)
	if err != nil {
		return nil, err
	}
	if err := checkParts(s.ID); err != nil {
		return nil, err
	}
	extra := map[string]string{}
	// Sparse indexes: only app and machine layers are listed, and only
	// heads with a policy can fall due.
	if s.Layer.Kind() != "global" {
		extra[AttrGSI1PK], extra[AttrGSI1SK] = layersPK(s.Org), join(s.Layer.Key(), s.Name)
	}
	if s.Rotation != nil {
		extra[AttrGSI2PK], extra[AttrGSI2SK] = rotationPK(s.Org), rotationSK(s)
	}
	return encodeItem(records.FromSecret(s), typeSecret, k, extra)
}

func orgItem(o *secrets.Org) (map[string]types.AttributeValue, error) {
	k, err := orgKey(o.ID)
	if err != nil {
		return nil, err
	}
	return encodeItem(records.FromOrg(o), typeOrg, k, orgIndex(o.ID))
}

func dataKeyItem(dk *secrets.DataKey) (map[string]types.AttributeValue, error) {
	k, err := dataKeyKey(dk.Org, dk.Environment, dk.Generation)
	if err != nil {
		return nil, err
	}
	return encodeItem(records.FromDataKey(dk), typeDataKey, k, nil)
}

func versionItem(s *secrets.Secret) (map[string]types.AttributeValue, error) {
	k, err := versionKey(s.Org, s.ID, s.Version)
	if err != nil {
		return nil, err
	}
	// No index keys: history is never listed by layer or due time.
	return encodeItem(records.FromSecret(s), typeVersion, k, nil)
}

func tokenItem(t *secrets.Token) (map[string]types.AttributeValue, error) {
	k, err := tokenKey(t.ID)
	if err != nil {
		return nil, err
	}
	if err := checkParts(t.Org); err != nil {
		return nil, err
	}
	return encodeItem(records.FromToken(t), typeToken, k, map[string]string{
		AttrGSI2PK: tokensPK(t.Org),
		AttrGSI2SK: join(timeSK(t.CreatedAt), t.ID),
	})
}
