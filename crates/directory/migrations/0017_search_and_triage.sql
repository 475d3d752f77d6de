-- Triage and the console's search find a user by a fragment of their externalId as they do by
-- a fragment of their userName or email: the folded externalId becomes the fifth field of
-- users.search_key (users::create and users::replace write it the same way). Refused sign-ins
-- that matched no account are found by their subject or email from an index, not a scan of
-- every sign-in.
UPDATE users SET search_key = search_key || char(31) || muster_fold(COALESCE(external_id, ''));
CREATE INDEX signins_subject ON signins(connection_id, subject);
CREATE INDEX signins_email ON signins(connection_id, lower(email));
