-- Issue 16, explanations (docs/explanations.md): a prediction's margin as a base value plus one
-- contribution per feature, which add up to the margin; global feature importance.
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x float8[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x record) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_explain(@extschema@.ml_model, jsonb) IS
    'A prediction explained: {"kind", "method", "scale", "base", "margin", "contributions": {feature: value}} (per class under "classes" for multiclass models); base + contributions = margin';
-- By registered name: the version deployed under an alias, found as ml_predict finds it (the
-- registry read as its owner, decoded once per backend). Like ml_predict, not executable by
-- PUBLIC: GRANT EXECUTE to the roles that may explain (docs/registry.md, Privileges).
CREATE FUNCTION @extschema@.ml_explain(name text, x jsonb, alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(name text, x float8[], alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(name text, x record, alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_explain(text, jsonb, text) IS
    'Explains a prediction of the version of a model deployed under an alias (production by default)';
REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_explain(text, jsonb, text),
    @extschema@.ml_explain(text, float8[], text),
    @extschema@.ml_explain(text, record, text)
FROM PUBLIC;

-- The explanation of a float8[] row as an array, laid out as XGBoost's
-- predict(pred_contribs=True): the contributions of positions 1..n, then the base (bias) last; a
-- multiclass model's is a 2-D array with a row of n + 1 per class (ml_info's class order).
CREATE FUNCTION @extschema@.ml_contributions(model @extschema@.ml_model, x float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ml_contributions_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_contributions(@extschema@.ml_model, float8[]) IS
    'A float8[] row''s explanation as XGBoost''s pred_contribs: the contribution of each position, then the base; a row per class for multiclass models';

CREATE FUNCTION @extschema@._ml_importance(model @extschema@.ml_model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_importance_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_importance(model @extschema@.ml_model)
    RETURNS TABLE (feature text, importance float8, kind text)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.name, (i.value #>> '{}')::float8, s.j ->> 'kind'
    FROM (SELECT @extschema@._ml_importance(model) AS j) s,
         jsonb_array_elements_text(s.j -> 'features') WITH ORDINALITY AS f(name, n)
         JOIN jsonb_array_elements(s.j -> 'importance') WITH ORDINALITY AS i(value, n) USING (n)
    ORDER BY n;
END;
COMMENT ON FUNCTION @extschema@.ml_importance(@extschema@.ml_model) IS
    'Global importance of each feature the model learned, and what the number is (kind)';

-- Issue 16 item 6: NULL when a model explains its predictions, else why not (the core's
-- message); ml_attach(explain => true) and ml_deploy, ml_rollback, ml_rollout to a table attached
-- with it refuse such a version (0A000), so the log never silently lacks an explanation.
CREATE FUNCTION @extschema@._ml_explain_refusal(model @extschema@.ml_model) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_explain_refusal' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION @extschema@._ml_explain_refusal(@extschema@.ml_model) FROM PUBLIC;
