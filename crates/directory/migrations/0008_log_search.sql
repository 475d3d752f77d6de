-- The log view's identity search from indexes instead of a scan of every row: the folded
-- userName (lower-cased, trimmed, as log::identity_key makes it on append) and externalId,
-- each an index whose entries end in the rowid, so one identity's rows come out newest first
-- without a sort. resource_id already has log_resource.
ALTER TABLE provisioning_log ADD COLUMN user_name_key TEXT;
-- SQLite's trim() strips spaces only; these are the whitespace characters a userName carries
-- in practice (Rust's trim also strips Unicode spaces; rows written from now on get that).
UPDATE provisioning_log
   SET user_name_key = muster_fold(trim(user_name, ' ' || char(9) || char(10) || char(13)))
 WHERE user_name IS NOT NULL;
CREATE INDEX log_user_name_key ON provisioning_log(user_name_key);
CREATE INDEX log_external_id ON provisioning_log(external_id);
