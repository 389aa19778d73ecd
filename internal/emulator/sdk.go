package emulator

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credentials are dummy static credentials for an SDK client of an
// emulator: dynalite checks that requests are signed, not by whom, and
// local-kms checks nothing.
var Credentials aws.CredentialsProvider = credentials.NewStaticCredentialsProvider("AKIDEMULATOR", "emulator-secret", "")

// Retryer is the SDK's standard retryer for a client of an emulator:
// attempts tries in all, a short backoff so that a test never waits long,
// and no retry quota, so that a test that makes calls fail does not drain a
// quota the next test needs.
func Retryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.MaxBackoff = 50 * time.Millisecond
		o.RateLimiter = ratelimit.None
	})
}
