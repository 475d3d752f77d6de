// Minimal SCIM client for tests: pushes Okta-shaped users and groups with a connection's bearer token.
export async function scim(scimUrl, token, method, resourcePath, body) {
  const res = await fetch(`${scimUrl}${resourcePath}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/scim+json",
      Accept: "application/scim+json",
      "User-Agent": "Okta SCIM Client 1.0.0",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${resourcePath} -> ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The body Okta sends on "Push New Users". */
export function oktaUser({ given, family, email, externalId, active = true, department }) {
  const body = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: email,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: email, type: "work" }],
    displayName: `${given} ${family}`,
    active,
  };
  if (externalId) body.externalId = externalId;
  if (department) {
    body.schemas.push("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = { department, employeeNumber: "1042" };
  }
  return body;
}

export function oktaGroup(displayName, memberIds) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    displayName,
    members: memberIds.map((value) => ({ value })),
  };
}
