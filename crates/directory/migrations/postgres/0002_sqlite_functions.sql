-- The SQLite functions the directory's statements call, so that each statement is written
-- once for both stores (src/sql.rs).

-- instr(haystack, needle): where needle starts, from 1; 0 when it is absent.
CREATE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN strpos($1, $2);

-- json_extract(document, '$.a."b:c".d'): the value at a path as text (NULL when absent),
-- for the SCIM filter attributes kept only in the resource's JSON.
CREATE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN jsonb_path_query_first($1::jsonb, $2::jsonpath) #>> '{}';
