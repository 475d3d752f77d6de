-- externalId is unique per connection among live users, as userName is (issue 18): two
-- creates carrying one externalId, on one instance or two, store one user and answer the
-- other 409 uniqueness. A deleted user in its retention window does not hold it. Refused
-- before it runs when live users already share one (migration_plan::external_id_duplicates).
CREATE UNIQUE INDEX users_external_id_live ON users(connection_id, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
