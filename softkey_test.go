package ihoprauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// softKey is a software WebAuthn authenticator for tests: an ECDSA P-256
// key behind one discoverable credential, answering registrations with
// attestation "none" and assertions signed as a real authenticator signs
// them (WebAuthn Level 3 §6.1, §6.3.3).
type softKey struct {
	t          testing.TB
	priv       *ecdsa.PrivateKey
	credID     []byte
	userHandle []byte
	rpID       string
	origin     string
	count      uint32 // the signature counter; stays 0 when counting is false
	counting   bool
	uv         bool // the authenticator verifies the user (the UV flag)
	synced     bool // backup eligible and backed up (BE and BS)
}

const (
	testRPID   = "example.com"
	testOrigin = "https://login.example.com"
)

var b64 = base64.RawURLEncoding

func newSoftKey(t testing.TB) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &softKey{t: t, priv: priv, credID: id, rpID: testRPID, origin: testOrigin, counting: true, uv: true, synced: true}
}

// publicKey returns the key in COSE form: EC2, ES256, P-256.
func (k *softKey) publicKey() []byte {
	point, err := k.priv.PublicKey.Bytes() // 0x04, X, Y
	if err != nil {
		k.t.Fatal(err)
	}
	b, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:65]})
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

func (k *softKey) flags(attested bool) byte {
	f := byte(0x01) // UP
	if k.uv {
		f |= 0x04
	}
	if k.synced {
		f |= 0x08 | 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (k *softKey) authData(attested bool) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	d := append(rp[:], k.flags(attested))
	d = binary.BigEndian.AppendUint32(d, k.count)
	if attested {
		d = append(d, make([]byte, 16)...) // AAGUID: none told
		d = binary.BigEndian.AppendUint16(d, uint16(len(k.credID)))
		d = append(d, k.credID...)
		d = append(d, k.publicKey()...)
	}
	return d
}

func (k *softKey) clientData(typ string, options map[string]any) []byte {
	pk, _ := options["publicKey"].(map[string]any)
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": pk["challenge"], "origin": k.origin, "crossOrigin": false})
	return b
}

// create answers the options of a registration (the "options" of
// user/mfa/passkey) with a new credential, as a PublicKeyCredential in
// JSON.
func (k *softKey) create(options map[string]any) map[string]any {
	k.t.Helper()
	pk, _ := options["publicKey"].(map[string]any)
	user, _ := pk["user"].(map[string]any)
	handle, err := b64.DecodeString(user["id"].(string))
	if err != nil {
		k.t.Fatalf("user.id: %v", err)
	}
	k.userHandle = handle
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		k.t.Fatal(err)
	}
	return map[string]any{"id": b64.EncodeToString(k.credID), "rawId": b64.EncodeToString(k.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(k.clientData("webauthn.create", options)),
			"attestationObject": b64.EncodeToString(att), "transports": []string{"internal", "hybrid"}}}
}

// get answers the options of a login with an assertion signed by the key,
// moving the counter on first when the key counts.
func (k *softKey) get(options map[string]any) map[string]any {
	k.t.Helper()
	if k.counting {
		k.count++
	}
	return k.sign(options, k.priv)
}

// sign makes an assertion signed with priv (k.priv, or a wrong key).
func (k *softKey) sign(options map[string]any, priv *ecdsa.PrivateKey) map[string]any {
	k.t.Helper()
	cd := k.clientData("webauthn.get", options)
	ad := k.authData(false)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	return map[string]any{"id": b64.EncodeToString(k.credID), "rawId": b64.EncodeToString(k.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.userHandle)}}
}
