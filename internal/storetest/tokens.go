package storetest

import (
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Tokens.

func testTokenCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	service := newToken(t, org, now())
	user := newToken(t, org, now())
	user.Kind, user.Role, user.Scope, user.ExpiresAt = secrets.TokenUser, secrets.RoleAdmin, secrets.Scope{}, nil
	for _, want := range []*secrets.Token{service, user} {
		if err := st.CreateToken(ctx, want); err != nil {
			t.Fatalf("CreateToken(%s): %v", want.Kind, err)
		}
		got, err := st.GetToken(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetToken(%s): %v", want.Kind, err)
		}
		checkToken(t, "GetToken of a "+string(want.Kind)+" token", got, want)
	}
	_, err := st.GetToken(ctx, secrets.TokenID(secrets.HashToken("never issued")))
	wantNotFound(t, "GetToken of an absent id", err)
}

func testTokenDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newToken(t, newOrgID(), now())
	if err := st.CreateToken(ctx, first); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	for _, org := range []string{first.Org, newOrgID()} {
		dup := newToken(t, org, now())
		dup.ID = first.ID
		wantErr(t, "CreateToken of a taken id in "+org, st.CreateToken(ctx, dup), secrets.ErrExists)
	}
	got := mustGetToken(t, st, first.ID)
	checkToken(t, "the first token after duplicates", got, first)
}

func testListTokens(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	base := now().Add(-time.Hour)
	var want []*secrets.Token
	for i := range 5 {
		want = append(want, newToken(t, org, base.Add(time.Duration(i)*time.Minute)))
	}
	// Created out of order, so that insertion order is not creation time.
	for _, i := range []int{3, 0, 4, 1, 2} {
		if err := st.CreateToken(ctx, want[i]); err != nil {
			t.Fatalf("CreateToken(%d): %v", i, err)
		}
	}
	if err := st.CreateToken(ctx, newToken(t, otherOrg, base)); err != nil {
		t.Fatalf("CreateToken in another org: %v", err)
	}
	revokedAt := now()
	if err := st.RevokeToken(ctx, org, want[1].ID, revokedAt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	want[1].RevokedAt = &revokedAt

	got, err := st.ListTokens(ctx, org)
	checkEach(t, "ListTokens", must(t, "ListTokens", got, err), want, checkToken)

	wantNone(t, "ListTokens of an empty org")(st.ListTokens(ctx, newOrgID()))
}

func testRevokeToken(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	tok := newToken(t, newOrgID(), now().Add(-time.Hour))
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	first := now()
	if err := st.RevokeToken(ctx, tok.Org, tok.ID, first); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := st.RevokeToken(ctx, tok.Org, tok.ID, first.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	got := mustGetToken(t, st, tok.ID)
	want := *tok
	want.RevokedAt = &first
	checkToken(t, "GetToken after two revocations", got, &want)
}

func testRevokeTokenNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	tok := newToken(t, newOrgID(), now())
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	wantNotFound(t, "RevokeToken of another org's token", st.RevokeToken(ctx, newOrgID(), tok.ID, now()))
	wantNotFound(t, "RevokeToken of an absent token", st.RevokeToken(ctx, tok.Org, secrets.TokenID(secrets.HashToken("never issued")), now()))

	got := mustGetToken(t, st, tok.ID)
	checkToken(t, "the token after another org's revocation", got, tok)
}

func testReplaceRevokedToken(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	old := newToken(t, org, now().Add(-time.Hour))
	if err := st.CreateToken(ctx, old); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	again := newToken(t, org, now())
	again.ID, again.Hash, again.Name = old.ID, old.Hash, "registered again"

	wantErr(t, "ReplaceRevokedToken of an active token", st.ReplaceRevokedToken(ctx, again), secrets.ErrExists)
	other := *again
	other.Org = newOrgID()
	wantNotFound(t, "ReplaceRevokedToken in another org", st.ReplaceRevokedToken(ctx, &other))
	absent := newToken(t, org, now())
	wantNotFound(t, "ReplaceRevokedToken of an absent token", st.ReplaceRevokedToken(ctx, absent))

	if err := st.RevokeToken(ctx, org, old.ID, now()); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := st.ReplaceRevokedToken(ctx, again); err != nil {
		t.Fatalf("ReplaceRevokedToken of a revoked token: %v", err)
	}
	got := mustGetToken(t, st, old.ID)
	checkToken(t, "GetToken after the replacement", got, again)
	list, err := st.ListTokens(ctx, org)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("ListTokens = %d tokens, want 1 (the replacement)", len(list))
	}
	checkToken(t, "ListTokens after the replacement", list[0], again)
}
