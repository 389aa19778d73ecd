// Package storetest is the behaviour every secrets.Store shares, written once
// from the contract in the secrets package's doc comments. Each store's
// tests call Run with a constructor of fresh, empty stores.
package storetest

import (
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

// Run exercises every method of secrets.Store. Each subtest gets a fresh
// store from newStore, which should register its own cleanup with t.
//
// Records carry times truncated to the microsecond: a store must return
// them equal (time.Time.Equal) at least to that precision.
func Run(t *testing.T, newStore func(t *testing.T) secrets.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st secrets.Store)
	}{
		// Secrets.
		{"a created secret reads back equal by id and by name", testCreateGet},
		{"a mask stored under the first rule reads back tightened", testLegacyMaskTightened},
		{"creating a duplicate name at the same layer is a conflict", testCreateDuplicate},
		{"the same name at another layer or in another org is another secret", testSameNameElsewhere},
		{"an absent secret is not found", testSecretAbsent},
		{"a secret of another org is not found", testSecretOtherOrg},
		{"an update at the expected version replaces the head", testUpdate},
		{"an update at a stale version is a conflict and changes nothing", testUpdateStale},
		{"updating an absent secret is not found", testUpdateAbsent},
		{"deleting a secret removes its head and its history", testDelete},
		{"deleting at the stored version deletes and at a stale one is a conflict", testDeleteExpected},
		{"deleting an absent secret is not found", testDeleteAbsent},
		{"deleting a deleted secret again clears history a racing writer left, and is not found", testDeleteClearsLeftoverHistory},
		{"a deleted secret's name can be taken by a new secret", testDeleteThenRecreate},
		{"finishing a delete removes history a racing writer left, and refuses a live or unknown id", testFinishDelete},
		{"secrets are listed by name, one layer of one org at a time", testListSecrets},
		{"listing several layers returns one slice per layer in the order given, each record with one environment's value", testListSecretsIn},
		{"listing several layers again sees every change to a head, and none a caller made", testListSecretsInSeesChanges},
		{"pages of a layer cover every name once, in order, after a given name", testListSecretsAfter},
		{"a page of several layers reads each after the same name, up to the limit", testListSecretsAfterLayers},
		{"a page after a name sees what changed after it and nothing before it", testListSecretsAfterChanges},
		{"layers holding secrets are listed by app, each app before its machines, without the global layer", testListLayers},
		{"a layer is no longer listed once its last secret is deleted", testListLayersAfterDelete},

		// Rotation.
		{"a rotation policy reads back equal", testRotationRoundTrip},
		{"due rotations are listed per org, earliest first, up to the limit", testListDueRotations},
		{"every org with a due rotation is listed", testListRotationOrgs},
		{"a head leaves the due list when its policy moves on, is cleared or deleted", testDueRotationsFollowHeads},

		// History.
		{"putting a version twice is harmless", testPutVersionTwice},
		{"versions are listed newest first without the head", testListVersions},
		{"a version never kept is not found", testVersionAbsent},
		{"pruning deletes only versions older than keepFrom", testPruneVersions},

		// Tokens.
		{"a created token reads back equal", testTokenCreateGet},
		{"a token id is taken once, in any org", testTokenDuplicate},
		{"tokens are listed per org, oldest first, revoked ones too", testListTokens},
		{"revoking a token keeps the first revocation time", testRevokeToken},
		{"revoking an absent token or another org's is not found", testRevokeTokenNotFound},
		{"a revoked token, and only a revoked one, can be replaced in its org", testReplaceRevokedToken},

		// Orgs.
		{"a created org reads back equal", testOrgCreateGet},
		{"creating an existing org is a conflict", testOrgDuplicate},
		{"putting org settings replaces everything but the id and creation time", testPutOrgSettings},
		{"an absent org is not found", testOrgAbsent},

		// Data keys.
		{"a created data key reads back equal", testDataKeyCreateGet},
		{"a second data key at the same org, environment and generation is a conflict", testDataKeyDuplicate},
		{"a data key is not found at another environment, generation or org", testDataKeyNotFound},

		// Audit.
		{"audit records are listed newest first", testAuditNewestFirst},
		{"audit pages cover every record exactly once", testAuditPages},
		{"an org sees only its own audit records", testAuditOtherOrg},
		{"concurrent audit appends each land once, and a taken id fails only its own", testConcurrentAudit},
		{"a manifest reads back as put, and putting it again keeps it", testManifestRoundTrip},
		{"a manifest is found only under its org, day and hash", testManifestNotFound},
		{"a manifest larger than a DynamoDB item reads back whole", testLargeManifest},

		// Concurrency.
		{"concurrent updates of one secret each land in exactly one version", testConcurrentUpdates},
		{"concurrent creates of one name let exactly one win", testConcurrentCreates},
		{"concurrent data key creates agree on one key", testConcurrentDataKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}
