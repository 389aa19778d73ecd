// Package bench holds the service's benchmarks (`make bench`): resolve
// through the HTTP handler at several sizes, cold and warm.
package bench
