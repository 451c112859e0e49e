-- The ml_model type: text input (bare spec or full model), text output, binary send/recv,
-- ml_model_bytes / ml_model_from_bytes, validation of corrupted input, ml_info.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA model_type;
SET search_path = model_type, public;

-- A bare spec reads as a fresh model; its text output spells out every option.
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model;
SELECT '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adam", "scale": true}'::ml_model;
-- Equal specs written differently are the same model, byte for byte.
SELECT ml_model_bytes('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}')
     = ml_model_bytes('{"optimizer": {"sgd": {"lr": 0.01}}, "model": "linear_regression", "l2": 0, "scale": false, "scale_target": false, "check_divergence": false}') AS same_spec;
SELECT ml_model_bytes('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}')
     = ml_model_bytes('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": 0.5}') AS different_spec;

-- A trained model, kept in a table.
CREATE TABLE models (name text PRIMARY KEY, m ml_model);
INSERT INTO models VALUES
  ('lin', ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1, "c": "x"}'::jsonb, 2),
                     '{"a": 0.5, "c": "y", "b": true}'::jsonb, -1)),
  ('log', ml_fit_one(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad", "scale": true}',
                                '{"a": 3, "c": "x"}'::jsonb, 1),
                     '{"a": -2, "c": "y"}'::jsonb, 0)),
  ('adam', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adam", "missing": "mean"}', ARRAY[1.5, -2, 0.25], 3)),
  ('ftrl', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"ftrl": {"l1": 0.1}}, "hash_bits": 3}',
                      '{"a": 1, "c": "x"}'::jsonb, 1));
-- The first model by hand: y = 2, prediction 0, gradient 2 * (0 - 2) = -4, so the intercept and
-- both weights become 0.01 * 4 = 0.04; second example: z = 0.04 + 0.5 * 0.04 = 0.06,
-- g = 2 * (0.06 + 1) = 2.12: intercept 0.04 - 0.0212 = 0.0188, a = 0.04 - 0.01 * 2.12 * 0.5 = 0.0294,
-- c=x stays 0.04, c=y = b = -0.0212.
SELECT m FROM models WHERE name = 'lin';

-- Text round trip is exact: same bytes, same predictions, for every kind of model.
SELECT name,
       ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS same_bytes,
       m::text::ml_model::text = m::text AS same_text
FROM models ORDER BY name;
SELECT name,
       ml_predict_one(m::text::ml_model, '{"a": 0.3, "c": "x", "b": false}'::jsonb)
         = ml_predict_one(m, '{"a": 0.3, "c": "x", "b": false}'::jsonb) AS same_prediction
FROM models WHERE name <> 'adam' ORDER BY name;
SELECT ml_predict_one(m::text::ml_model, ARRAY[0.1, 0.2, 0.3]) = ml_predict_one(m, ARRAY[0.1, 0.2, 0.3]) AS same_prediction
FROM models WHERE name = 'adam';
-- A model stored as text in a table of text and read back.
CREATE TABLE model_texts AS SELECT name, m::text AS t FROM models;
SELECT t.name, ml_model_bytes(t.t::ml_model) = ml_model_bytes(m.m) AS same_bytes
FROM model_texts t JOIN models m USING (name) ORDER BY 1;

-- Binary form: ml_model_bytes / ml_model_from_bytes round trip, and COPY BINARY (send/recv).
SELECT name, ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       ml_model_from_bytes(ml_model_bytes(m))::text = m::text AS same_text
FROM models ORDER BY name;
SELECT encode(substr(ml_model_bytes(m), 1, 8), 'hex') AS magic_version_kind, length(ml_model_bytes(m)) AS bytes
FROM models ORDER BY name;
\copy models TO 'results/model_type_copy.bin' WITH (FORMAT binary)
CREATE TABLE models_copy (LIKE models);
\copy models_copy FROM 'results/model_type_copy.bin' WITH (FORMAT binary)
SELECT name, ml_model_bytes(c.m) = ml_model_bytes(o.m) AS same_bytes
FROM models_copy c JOIN models o USING (name) ORDER BY name;

-- ml_info: kind, spec, n_seen, features, weights, size.
SELECT jsonb_pretty(ml_info(m)) FROM models WHERE name = 'lin';
SELECT name, ml_info(m)->>'kind' AS kind, ml_info(m)->'n_seen' AS n_seen, ml_info(m)->'features' AS features,
       ml_info(m)->'n_weights' AS n_weights, (ml_info(m)->>'size_bytes')::int = length(ml_model_bytes(m)) AS size_ok
FROM models ORDER BY name;
SELECT ml_info(m)->'spec' FROM models WHERE name = 'ftrl';
SELECT ml_info('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}') - 'spec' AS fresh;

-- A full model written by hand: "identity" and "aggregation_base" are optional.
SELECT ml_predict_one('{"pg_learn_model": 1, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false},
  "updates": 0, "n_seen": 0, "dense_dim": 0, "intercept": 0.5, "features": ["a", "c=x"],
  "feature_types": ["numeric", "categorical"], "weights": [2, -1]}', '{"a": 3, "c": "x"}'::jsonb) AS hand_model;

-- Text input errors: malformed JSON, wrong shape, inconsistent models.
SELECT ''::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1, 2]'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT (repeat('[', 40) || repeat(']', 40))::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT ('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ' || repeat('[', 40) || repeat(']', 40) || '}')::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"pg_learn_model": 2, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"n_seen":2', '"n_seen":-2')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"kind":"linear_regression"', '"kind":"logistic_regression"')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"identity":"', '"identity":"0')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"weights":[', '"weights":[1,')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"weights":[', '"weights":[1e999,')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"features":["a"', '"features":["b"')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"numeric"', '"text"')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"pg_learn_model":1', '"pg_learn_model":1,"extra":0')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"aggregation_base":0', '"aggregation_base":5')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, ',"optimizer_state":{', ',"x":{')::ml_model FROM models WHERE name = 'adam';
\echo :LAST_ERROR_SQLSTATE
SELECT replace(m::text, '"count":[', '"count":[0.5,')::ml_model FROM models WHERE name = 'adam';
\echo :LAST_ERROR_SQLSTATE
SELECT (m::text || ' trailing')::ml_model FROM models WHERE name = 'lin';
\echo :LAST_ERROR_SQLSTATE

-- Binary input errors: every corruption is caught, with SQLSTATE 22P03.
CREATE TABLE b AS SELECT ml_model_bytes(m) AS b FROM models WHERE name = 'lin';
SELECT ml_model_from_bytes(''::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(substr(b, 1, 40)) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(substr(b, 1, length(b) - 8)) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(b || '\x00'::bytea) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(set_byte(b, 0, ascii('X'))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(set_byte(b, 4, 3)) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(set_byte(b, 6, 9)) FROM b;
\echo :LAST_ERROR_SQLSTATE
-- A flipped bit anywhere breaks the checksum: in the body, and in the header's update and
-- example counters (bytes 16 to 31), which nothing else checks.
SELECT i, ml_model_from_bytes(set_byte(b, i, get_byte(b, i) # 16)) FROM b, (VALUES (48), (100), (300), (390)) v(i);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(set_byte(b, 16, get_byte(b, 16) # 1)) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(set_byte(b, 31, get_byte(b, 31) # 128)) FROM b;
\echo :LAST_ERROR_SQLSTATE

-- The checksum of docs/format.md written again in SQL: H = hash64 over little-endian 8-byte
-- words (64-bit wrapping products computed in numeric), and the checksum is H of the 48-byte
-- header with H(body) in place of the checksum field (bytes 32 to 39).
CREATE FUNCTION u64(x bit(64)) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE WHEN x::int8 < 0 THEN x::int8 + 18446744073709551616 ELSE x::int8::numeric END $$;
CREATE FUNCTION mul64(a bit(64), b bit(64)) RETURNS bit(64) LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT (CASE WHEN p >= 9223372036854775808 THEN p - 18446744073709551616 ELSE p END)::int8::bit(64)
  FROM (SELECT mod(u64(a) * u64(b), 18446744073709551616) AS p) s $$;
-- n (1 to 8) bytes at offset off (from 0), little-endian, zero-extended
CREATE FUNCTION word_le(b bytea, off int, n int) RETURNS bit(64) LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ('x' || lpad(string_agg(lpad(to_hex(get_byte(b, off + k)), 2, '0'), '' ORDER BY k DESC), 16, '0'))::bit(64)
  FROM generate_series(0, n - 1) k $$;
CREATE FUNCTION bytes_le(x bit(64)) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT decode(string_agg(substr(lpad(to_hex(x::int8), 16, '0'), 15 - 2 * k, 2), '' ORDER BY k), 'hex')
  FROM generate_series(0, 7) k $$;
CREATE FUNCTION hash64(b bytea) RETURNS bit(64) LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  m constant bit(64) := x'9e3779b97f4a7c15';
  n constant int := length(b);
  h bit(64) := mul64(n::int8::bit(64), m);
  w bit(64);
  i int := 0;
BEGIN
  WHILE i + 8 <= n LOOP
    w := mul64(word_le(b, i, 8), x'bf58476d1ce4e5b9');
    w := w # (w >> 31);
    h := mul64(h # w, m);
    h := h # (h >> 29);
    i := i + 8;
  END LOOP;
  w := CASE WHEN i < n THEN word_le(b, i, n - i) ELSE 0::int8::bit(64) END;
  h := mul64(h # mul64(w, x'94d049bb133111eb'), m);
  RETURN h # (h >> 32);
END $$;
CREATE FUNCTION checksum(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT bytes_le(hash64(substr(b, 1, 32) || bytes_le(hash64(substr(b, 49))) || substr(b, 41, 8))) $$;
CREATE FUNCTION with_checksum(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT overlay(b PLACING checksum(b) FROM 33 FOR 8) $$;
-- Every model carries that checksum.
SELECT name, substr(ml_model_bytes(m), 33, 8) = checksum(ml_model_bytes(m)) AS checksum_as_documented
FROM models ORDER BY name;
-- The counters under a recomputed checksum: accepted, with the changed counters.
SELECT ml_info(ml_model_from_bytes(with_checksum(set_byte(set_byte(b, 16, 7), 24, 9)))) -> 'updates' AS updates,
       ml_info(ml_model_from_bytes(with_checksum(set_byte(set_byte(b, 16, 7), 24, 9)))) -> 'n_seen' AS n_seen
FROM b;
-- The first draft's checksum covered only the body (bytes 48 and after): refused.
SELECT ml_model_from_bytes(overlay(b PLACING bytes_le(hash64(substr(b, 49))) FROM 33 FOR 8)) FROM b;
\echo :LAST_ERROR_SQLSTATE
-- Under a recomputed checksum, the other checks: kind, identity.
SELECT ml_model_from_bytes(with_checksum(set_byte(b, 6, 2))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, 8, get_byte(b, 8) # 1))) FROM b;
\echo :LAST_ERROR_SQLSTATE
-- One model, one encoding: the spec section's encoding field (bytes 4-7 of its header) and its
-- padding are zeros, and the spec is in canonical form (here the same spec with two keys swapped).
SELECT ml_model_from_bytes(with_checksum(set_byte(b, 52, 1))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT get_byte(b, 56) AS spec_length, get_byte(b, 64 + get_byte(b, 56)) AS first_padding_byte FROM b;
SELECT ml_model_from_bytes(with_checksum(set_byte(b, 64 + get_byte(b, 56), 32))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING '"l2":0.0,"l1":0.0'::bytea
                                                 FROM position('"l1":0.0,"l2":0.0'::bytea IN b) FOR 17))) FROM b;
\echo :LAST_ERROR_SQLSTATE
-- Feature names must be UTF-8 (the text form prints them as JSON strings) without NUL bytes.
-- The one-byte name "a" becomes a lone 0xff, a lead byte 0xc3 without its continuation, a
-- continuation byte 0x80, a NUL; then, valid, "z"; and the categorical "c=x" becomes "éx".
SELECT position('\x010000000061'::bytea IN b) + 4 AS name_at, position('\x0300000001633d78'::bytea IN b) + 4 AS cat_at
FROM b \gset
SELECT ml_model_from_bytes(with_checksum(set_byte(b, :name_at, 255))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, :name_at, 195))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, :name_at, 128))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, :name_at, 0))) FROM b;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_info(ml_model_from_bytes(with_checksum(set_byte(b, :name_at, ascii('z'))))) -> 'features' AS renamed,
       ml_info(ml_model_from_bytes(with_checksum(set_byte(set_byte(b, :cat_at, 195), :cat_at + 1, 169)))) -> 'features' AS renamed_category,
       ml_model_from_bytes(with_checksum(set_byte(set_byte(b, :cat_at, 195), :cat_at + 1, 169)))::text LIKE '%"features":["a","éx",%' AS text_form
FROM b;

CREATE FUNCTION from_bytes_sqlstate(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ml_model_from_bytes(b);
  RETURN 'accepted';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE;
END $$;
-- Every single-bit flip, in any byte of the header or the body, is rejected.
SELECT from_bytes_sqlstate(set_byte(b, i, get_byte(b, i) # (1 << (i % 8)))) AS outcome, count(*) = max(length(b)) AS every_byte
FROM b, generate_series(0, length(b) - 1) AS i
GROUP BY 1;
-- Valid checksum but invalid content (crafted outside, as fixed vectors of the format): a NaN
-- weight, an unknown feature type.
SELECT ml_model_from_bytes('\x50474c4d01000100b5dc787c5288bb2e01000000000000000100000000000000ca0ee3ac9e03168d04000000880100000100000000000000d1000000000000007b22636c69705f6772616469656e74223a313030303030303030303030302e302c22686173685f62697473223a302c2269676e6f7265223a5b5d2c22696e746572636570745f696e6974223a302e302c22696e746572636570745f6c72223a302e30312c226c31223a302e302c226c32223a302e302c226d697373696e67223a227a65726f222c226d6f64656c223a226c696e6561725f72656772657373696f6e222c226f7074696d697a6572223a7b22736764223a7b226c72223a302e30317d7d2c227363616c65223a66616c73657d00000000000000020000000000000020000000000000000000000000000000000000000200000002000000000000007b14ae47e17aa43f03000000000000000e000000000000000100000000610300000001633d780000040000000000000010000000000000007b14ae47e17aa43f000000000000f87f'::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes('\x50474c4d01000100b5dc787c5288bb2e0100000000000000010000000000000005342bb2cac06ec004000000880100000100000000000000d1000000000000007b22636c69705f6772616469656e74223a313030303030303030303030302e302c22686173685f62697473223a302c2269676e6f7265223a5b5d2c22696e746572636570745f696e6974223a302e302c22696e746572636570745f6c72223a302e30312c226c31223a302e302c226c32223a302e302c226d697373696e67223a227a65726f222c226d6f64656c223a226c696e6561725f72656772657373696f6e222c226f7074696d697a6572223a7b22736764223a7b226c72223a302e30317d7d2c227363616c65223a66616c73657d00000000000000020000000000000020000000000000000000000000000000000000000200000002000000000000007b14ae47e17aa43f03000000000000000e000000000000000100000000610300000007633d780000040000000000000010000000000000007b14ae47e17aa43f7b14ae47e17aa43f'::bytea);
\echo :LAST_ERROR_SQLSTATE

-- Hashed models: the per-weight sections (weights 4, optimizer state 5, statistics 6) store only
-- the positions in use when that is shorter (docs/format.md, "Dense and sparse per-weight
-- sections"). A fresh model of 2^18 weights is 368 bytes: header 48, spec 16 + 216, state
-- 16 + 32, no names 16, and a weights section that is a count of 0, 16 + 8 (it was 2 MB dense).
-- The sections of a value, read by their headers: tag, encoding, payload length and offset.
CREATE FUNCTION sections(b bytea) RETURNS TABLE (tag int, encoding int, len numeric, payload int)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  at int := 48;
BEGIN
  WHILE at + 16 <= length(b) LOOP
    tag := u64(word_le(b, at, 4));
    encoding := u64(word_le(b, at + 4, 4));
    len := u64(word_le(b, at + 8, 8));
    payload := at + 16;
    RETURN NEXT;
    at := at + 16 + ceil(len / 8) * 8;
  END LOOP;
END $$;
CREATE TABLE hashed (name text PRIMARY KEY, m ml_model);
INSERT INTO hashed VALUES
  ('fresh', '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 18}'),
  ('fresh_adam', '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 18, "optimizer": {"adam": {"lr": 0.1}}, "scale": true}');
-- Three examples. Hashed (MurmurHash3 mod 2^18, computed apart): c=y 22220, a 92594, b 163331,
-- c=x 252754. With scaling, the first value of a feature scales to 0 (no variance yet), so its
-- gradient is 0: b never moves, a moves on its second example; c=x and c=y (categorical, not
-- scaled) move. So weights and Adam's m, v are non-zero at c=y, a, c=x (3 positions), the
-- statistics (numeric features only) at a, b (2 positions).
INSERT INTO hashed
SELECT 'three', ml_fit_one(ml_fit_one(ml_fit_one(m, '{"a": 1, "c": "x"}'::jsonb, 1),
                                      '{"a": -2, "b": 0.5}'::jsonb, 0), '{"c": "y"}'::jsonb, 1)
FROM hashed WHERE name = 'fresh_adam';
-- Sizes: fresh_adam 48 + (16 + 256) spec + (16 + 32) state + 16 names + 3 * (16 + 8) = 456;
-- three: the same header, spec and state, names 16 + 32 (a, c=x, b, c=y: 28 bytes and padding),
-- weights 16 + 8 + 16 + 3 * 8, Adam's m and v 16 + 8 + 16 + 2 * 3 * 8, statistics
-- 16 + 8 + 8 + 3 * 2 * 8: 648. The column holds them inline with a 4-byte varlena header.
SELECT name, length(ml_model_bytes(m)) AS bytes, pg_column_size(m) AS column_size, ml_info(m)->'n_weights' AS n_weights,
       (ml_info(m)->>'size_bytes')::int = length(ml_model_bytes(m)) AS size_ok
FROM hashed ORDER BY name;
-- Each per-weight section: sparse (1), its length (8 + 8 ceil(c/2) + 8 k c) and its count c.
SELECT h.name, s.tag, s.encoding, s.len, u64(word_le(ml_model_bytes(h.m), s.payload, 8)) AS stored
FROM hashed h, sections(ml_model_bytes(h.m)) s WHERE s.tag >= 4 ORDER BY 1, 2;
-- The stored positions, in increasing order.
SELECT s.tag, array_agg(u64(word_le(ml_model_bytes(h.m), s.payload + 8 + 4 * k, 4)) ORDER BY k) AS positions
FROM hashed h, sections(ml_model_bytes(h.m)) s,
     generate_series(0, u64(word_le(ml_model_bytes(h.m), s.payload, 8))::int - 1) k
WHERE h.name = 'three' AND s.tag >= 4 GROUP BY s.tag ORDER BY 1;
-- (kept for the corruptions below: the bytes, and the offset of the weights section's payload)
CREATE TABLE sb AS SELECT ml_model_bytes(m) AS b, s.payload AS p FROM hashed h, sections(ml_model_bytes(h.m)) s
WHERE h.name = 'three' AND s.tag = 4;
-- Every path gives back the same bytes, and the same predictions.
SELECT name, ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS bytes_round_trip,
       ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS text_round_trip,
       ml_predict_one(ml_model_from_bytes(ml_model_bytes(m)), '{"a": 0.5, "b": 1, "c": "x"}'::jsonb)
         = ml_predict_one(m, '{"a": 0.5, "b": 1, "c": "x"}'::jsonb) AS same_prediction
FROM hashed ORDER BY name;
-- More learning goes on from the stored value, and stays small: one more name (c=z, names
-- 16 + 40), one more position in the weights (16 + 56) and in Adam's state (16 + 88): 680.
UPDATE hashed SET m = ml_fit_one(m, jsonb_build_object('a', 0.25, 'c', 'z'), 0) WHERE name = 'three';
SELECT length(ml_model_bytes(m)) AS bytes, ml_info(m)->'n_seen' AS n_seen FROM hashed WHERE name = 'three';
-- The aggregate's spec argument is a constant a sort keeps with every row: it is small now.
SELECT length(ml_model_bytes(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 18}'::ml_model,
                                    jsonb_build_object('f' || i % 7, 1), (i % 2)::float8 ORDER BY i))) < 1024 AS small,
       ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 18}'::ml_model,
                      jsonb_build_object('f' || i % 7, 1), (i % 2)::float8 ORDER BY i))->'n_seen' AS n_seen
FROM generate_series(1, 2000) i;
-- A negative zero is not zero: it is stored (2 positions of 8: sparse, 8 + 8 + 16 bytes), and
-- printed; its sign survives both forms.
SELECT m::text LIKE '%"weights":[0.0,-0.0,0.5,0.0,0.0,0.0,0.0,0.0]}' AS kept, s.encoding, s.len,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS bytes_round_trip,
       ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS text_round_trip
FROM (SELECT '{"pg_learn_model": 1, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 3},
        "updates": 0, "n_seen": 0, "dense_dim": 0, "intercept": 0, "features": [], "feature_types": [],
        "weights": [0, -0.0, 0.5, 0, 0, 0, 0, 0]}'::ml_model AS m) t, sections(ml_model_bytes(t.m)) s WHERE s.tag = 4;

-- A sparse section is checked as strictly as a dense one (22P03 under a recomputed checksum).
-- The weights section of the model of three examples: tag 4, sparse, 48 bytes, 3 positions
-- (22220 = 0x56cc, 92594 = 0x169b2, 252754 = 0x3db52), 4 bytes of padding, 3 weights.
SELECT encode(substr(b, p - 16 + 1, 16 + 48), 'hex') AS weights_section FROM sb;
-- count 3 -> 4 or 2 (the length no longer matches); count beyond 2^18
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p, 4))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p, 2))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p + 3, 1))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
-- positions: the first two swapped, the second equal to the first, the last 2^18 (out of range)
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING substr(b, p + 8 + 5, 4) || substr(b, p + 8 + 1, 4) FROM p + 8 + 1 FOR 8))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING substr(b, p + 8 + 1, 4) FROM p + 8 + 5 FOR 4))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING '\x00000400'::bytea FROM p + 8 + 9 FOR 4))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
-- the padding after the odd number of positions
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p + 8 + 12, 1))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
-- a stored value of zero; a NaN
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING '\x0000000000000000'::bytea FROM p + 24 + 9 FOR 8))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(overlay(b PLACING '\x000000000000f87f'::bytea FROM p + 24 + 9 FOR 8))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
-- the encoding field: 0 (dense) would need 2^21 bytes; 2 is no encoding
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p - 12, 0))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(with_checksum(set_byte(b, p - 12, 2))) FROM sb;
\echo :LAST_ERROR_SQLSTATE
-- One model, one encoding: the same fresh weights written dense (16 zero doubles of a
-- 2^4-weight model, 128 bytes, where the sparse form takes 8) are refused.
CREATE TABLE small AS SELECT ml_model_bytes('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 4}') AS b;
SELECT s.tag, s.encoding, s.len, s.payload, length(b) AS bytes FROM small, sections(b) s WHERE s.tag = 4;
SELECT ml_model_from_bytes(with_checksum(
         overlay(substr(b, 1, length(b) - 24) || '\x04000000000000008000000000000000'::bytea || decode(repeat('00', 128), 'hex')
                 PLACING substr(bytes_le((length(b) + 120)::int8::bit(64)), 1, 4) FROM 45 FOR 4))) FROM small;
\echo :LAST_ERROR_SQLSTATE

-- NULL in, NULL out.
SELECT ml_model_from_bytes(NULL) IS NULL AS from_null, ml_model_bytes(NULL) IS NULL AS bytes_null,
       ml_info(NULL) IS NULL AS info_null, NULL::ml_model IS NULL AS cast_null;
