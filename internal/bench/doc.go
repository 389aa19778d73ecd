// Package bench holds the service's benchmarks (`make bench`): resolve
// through the HTTP handler at several sizes, cold and warm, on the embedded
// store and on DynamoDB (dynalite, with KMS served by local-kms), with the
// DynamoDB requests, bytes and KMS calls each resolve costs; and resolve
// under concurrent load over loopback against `zwrm dev` processes, this
// tree beside a baseline commit.
package bench
