// A real OpenID Provider for the tests: `oidc-provider` (the certified Node implementation) on a loopback port with
// one public PKCE client (the console) and its dev login form (any login; its email is the login, verified, served from
// UserInfo: the ID token carries only `sub`, the provider's conformant default), and restartable with a new signing key
// first in its JWKS (a key rotation).
import { generateKeyPair, exportJWK } from "jose";
import { createServer } from "node:net";
import Provider from "oidc-provider";

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function newSigningKey(kid) {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

/**
 * Starts the provider at http://127.0.0.1:{port}; `keys` are its signing keys, the first one signs. The client is a web
 * client of `redirectUri`, or with `applicationType: "native"` a native one whose loopback redirect URIs match any port
 * (RFC 8252 §7.3), as the desktop app's are.
 */
export async function startProvider({ port, redirectUri, keys, clientId = "muster-console", applicationType = "web" }) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        application_type: applicationType,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: "none",
        response_types: ["code"],
        grant_types: ["authorization_code"],
      },
    ],
    pkce: { required: () => true },
    jwks: { keys },
    cookies: { keys: ["muster-e2e-cookie-key"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    features: { devInteractions: { enabled: true } },
    // The dev login's account id is the login typed in, and the subject is the account id (oidc-provider's rule).
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, email: id, email_verified: true }) };
    },
  });
  const server = await new Promise((resolve) => {
    const s = provider.listen(port, "127.0.0.1", () => resolve(s));
  });
  const stop = () => new Promise((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  return { issuer, stop };
}
