// Package bench holds the service's benchmarks (`make bench`): resolve
// through the HTTP handler at several sizes, cold and warm, on the embedded
// store and on DynamoDB (dynalite, with KMS served by kmstest), with the
// DynamoDB requests, bytes and KMS calls each resolve costs.
package bench
