package lambdaext_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/lambdaext"
)

func TestTheConfigurationComesFromTheEnvironment(t *testing.T) {
	base := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ZWRM_ENDPOINT": "https://api.example.com/prod", "ZWRM_ENV": "production", "ZWRM_TOKEN": "zwrm_s_x"}
	for _, tc := range []struct {
		name    string
		set     map[string]string
		wantErr string // a part of the error; "" for none
		check   func(t *testing.T, c lambdaext.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c lambdaext.Config) {
			if c.TTL != 300*time.Second || c.Port != 2773 || c.IAM() || c.Names != nil {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "a TTL in seconds or as a duration, names, a port", set: map[string]string{"ZWRM_CACHE_TTL": "60", "ZWRM_NAMES": " A, B ,,", "ZWRM_PORT": "3000"}, check: func(t *testing.T, c lambdaext.Config) {
			if c.TTL != time.Minute || c.Port != 3000 || strings.Join(c.Names, "|") != "A|B" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "a duration TTL", set: map[string]string{"ZWRM_CACHE_TTL": "2m"}, check: func(t *testing.T, c lambdaext.Config) {
			if c.TTL != 2*time.Minute {
				t.Errorf("TTL %v", c.TTL)
			}
		}},
		{name: "IAM without an org is refused", set: map[string]string{"ZWRM_TOKEN": "", "AWS_REGION": "eu-west-1"}, wantErr: "ZWRM_ORG"},
		{name: "IAM without a region is refused", set: map[string]string{"ZWRM_TOKEN": "", "ZWRM_ORG": "acme"}, wantErr: "AWS_REGION"},
		{name: "IAM with an org and a region", set: map[string]string{"ZWRM_TOKEN": "", "ZWRM_ORG": "acme", "AWS_REGION": "eu-west-1"}, check: func(t *testing.T, c lambdaext.Config) {
			if !c.IAM() || c.Org != "acme" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "no endpoint", set: map[string]string{"ZWRM_ENDPOINT": ""}, wantErr: "ZWRM_ENDPOINT"},
		{name: "no environment", set: map[string]string{"ZWRM_ENV": ""}, wantErr: "ZWRM_ENV"},
		{name: "a zero TTL", set: map[string]string{"ZWRM_CACHE_TTL": "0s"}, wantErr: "ZWRM_CACHE_TTL"},
		{name: "a bad port", set: map[string]string{"ZWRM_PORT": "70000"}, wantErr: "ZWRM_PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.set {
				env[k] = v
			}
			c, err := lambdaext.ConfigFromEnv("zwrm-secrets", func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "zwrm_s_x") {
					t.Errorf("the error quotes the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
