-- Flagged sign-ins for the console: a machine-readable code for why a sign-in's group
-- claims were not applied (Entra groups overage, SAML past the group cap, no groups claim
-- where one was expected), the role the sign-in returned, and a partial index so a
-- connection's flagged sign-ins are listed and counted without scanning all its sign-ins.

ALTER TABLE signins ADD COLUMN flag TEXT;
ALTER TABLE signins ADD COLUMN role TEXT;
CREATE INDEX signins_flagged ON signins(connection_id, at) WHERE flag IS NOT NULL;

-- Sign-ins recorded before this migration carry the flag only in their warning text.
UPDATE signins SET flag = 'groups_overage' WHERE warning LIKE '%groups overage%';
UPDATE signins SET flag = 'groups_claim_missing'
    WHERE flag IS NULL AND warning LIKE '%no groups claim where one was expected%';
