package dynamostore

// RecordTypes are the types the store encodes.
var RecordTypes = []any{orgRecord{}, secretRecord{}, tokenRecord{}, dataKeyRecord{}, auditRecord{}}
