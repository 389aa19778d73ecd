package service_test

import (
	"testing"

	"github.com/zwrm/secrets/internal/service"
)

func TestNormalizePrincipalARN(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "": invalid
	}{
		{"arn:aws:iam::123456789012:role/web-prod", "arn:aws:iam::123456789012:role/web-prod"},
		{"arn:aws:iam::123456789012:role/service-role/web-prod", "arn:aws:iam::123456789012:role/web-prod"},
		{"arn:aws:sts::123456789012:assumed-role/web-prod/i-0abc1234", "arn:aws:iam::123456789012:role/web-prod"},
		{"arn:aws:sts::123456789012:assumed-role/web-prod/session/with/slashes", "arn:aws:iam::123456789012:role/web-prod"},
		{"arn:aws-cn:sts::123456789012:assumed-role/web-prod/s", "arn:aws-cn:iam::123456789012:role/web-prod"},
		{"arn:aws-us-gov:iam::123456789012:role/web-prod", "arn:aws-us-gov:iam::123456789012:role/web-prod"},
		{"arn:aws:iam::123456789012:user/ci", "arn:aws:iam::123456789012:user/ci"},
		{"arn:aws:iam::123456789012:user/division/ci", "arn:aws:iam::123456789012:user/division/ci"},
		{"", ""},
		{"web-prod", ""},
		{"arn:aws:iam::12345:role/web-prod", ""},
		{"arn:aws:iam::12345678901a:role/web-prod", ""},
		{"arn:gcp:iam::123456789012:role/web-prod", ""},
		{"urn:aws:iam::123456789012:role/web-prod", ""},
		{"arn:aws:iam::123456789012:group/devs", ""},
		{"arn:aws:iam::123456789012:root", ""},
		{"arn:aws:iam::123456789012:role/", ""},
		{"arn:aws:iam::123456789012:role/path/", ""},
		{"arn:aws:iam::123456789012:user/", ""},
		{"arn:aws:sts::123456789012:assumed-role/web-prod", ""},
		{"arn:aws:sts::123456789012:assumed-role//session", ""},
		{"arn:aws:sts::123456789012:federated-user/bob", ""},
		{"arn:aws:s3:::a-bucket", ""},
	} {
		got, err := service.NormalizePrincipalARN(tc.in)
		if tc.want == "" {
			if !invalidOn(err, "principal_arn") {
				t.Errorf("NormalizePrincipalARN(%q) = %q, %v; want an invalid error on principal_arn", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePrincipalARN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
