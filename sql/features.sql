-- Feature values: jsonb numbers and numeric columns convert to the same double as ::float8
-- (correctly rounded), booleans are 0/1, strings one-hot, null missing.
-- A model whose prediction is exactly the value of feature "a": intercept 0, weight 1.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA features;
SET search_path = features, public;
CREATE TABLE unit AS SELECT '{"pg_learn_model": 1, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false},
  "updates": 0, "n_seen": 0, "dense_dim": 0, "intercept": 0, "features": ["a"], "feature_types": ["numeric"],
  "weights": [1]}'::ml_model AS m;
CREATE TABLE nums (id serial, v text);
INSERT INTO nums (v) VALUES
  ('0'), ('-0'), ('1'), ('-1'), ('0.1'), ('0.3'), ('-0.7'), ('1.5'), ('100'), ('1e22'), ('1e23'), ('123456789'),
  ('9007199254740992'), ('9007199254740993'), ('9007199254740995'), ('18014398509481985'),
  ('0.000001'), ('1e-7'), ('3.141592653589793238462643383279502884197'), ('2.718281828459045'),
  ('0.1000000000000000055511151231257827021181583404541015625'),
  ('0.10000000000000000555111512312578270211815834045410156250001'),
  ('123456789012345678901234567890'), ('1.7976931348623157e308'), ('-1.7976931348623157e308'),
  ('2.2250738585072014e-308'), ('2.2250738585072011e-308'), ('4.9406564584124654e-324'), ('1e-320'),
  ('1e-300'), ('1e300'), ('12345.678900'), ('0.00010000'), ('99999999999999999999'),
  ('1234567890.0987654321'), ('-5e-5'), ('7e-10'), ('1e-22'), ('1e-23'), ('4503599627370496.5'), ('4503599627370497.5'),
  -- A value just above the halfway point between two doubles near 1e-300: the digit that
  -- decides the rounding is the 1052nd.
  ('0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000009999999999999999421686312506278098766577790396096102500749507061215533740123822664637714983633241495495797122320666788469002919303285776629482482166958017109367577476463252934041913213079796599521663673886873325871594818904935836954770177658841603852218863160019661181626285402099986704421521858602617013508219690046784963298912429812060503871785874154387251232314722851050235457070162091017989471434882094028441651941629607928715994370755368208188847841223979110053905918880344061797526158879261669952608859785462757494189435266428279604552895426184784517513870158731783771846721405724184447314961271443612317435947352139631001452803540381549324019840257160161398928032766824674904632375552752664483295450209912602623774091625818982720375061035156251');
-- jsonb numbers.
SELECT id, left(v, 40) AS v, ml_predict_one(m, jsonb_build_object('a', v::numeric)) = v::numeric::float8 AS jsonb_exact
FROM nums, unit ORDER BY id;
-- numeric columns (and numeric in a row from a table).
SELECT count(*) FILTER (WHERE ml_predict_one(m, r) = v::numeric::float8) AS row_exact, count(*) AS total
FROM nums, unit, LATERAL (SELECT v::numeric AS a) r;
-- jsonb parsed from text (not built from numeric).
SELECT count(*) FILTER (WHERE ml_predict_one(m, ('{"a": ' || v || '}')::jsonb) = v::numeric::float8) AS parsed_exact, count(*) AS total
FROM nums, unit;
-- Negative values too.
SELECT count(*) FILTER (WHERE ml_predict_one(m, jsonb_build_object('a', -v::numeric)) = (-v::numeric)::float8) AS negated_exact
FROM nums, unit;
-- Many values through each conversion path (a significand below 2^53, below 2^63 with a small
-- exponent, anything else), against ::float8: random doubles over 80 decades at their shortest
-- 17 digits and rounded to 0..24 decimals, and values exactly halfway between two doubles
-- (rounded to even; the long double path must notice them and not round twice).
SELECT setseed(0.25);
CREATE TABLE many (v numeric);
INSERT INTO many
SELECT d::numeric FROM (SELECT (random() * 2 - 1) * 10 ^ (random() * 80 - 40) AS d FROM generate_series(1, 20000)) r
UNION ALL
SELECT round(d::numeric, s) FROM (SELECT (random() * 2 - 1) * 10 ^ (random() * 20 - 8) AS d, (random() * 24)::int AS s
                                  FROM generate_series(1, 20000)) r
UNION ALL
SELECT (2::numeric ^ 53 + 2 * i + 1) * sgn FROM generate_series(0, 999) i, (VALUES (1), (-1)) s(sgn)
UNION ALL
SELECT 2::numeric ^ 60 + 128 * (2 * i + 1) FROM generate_series(0, 999) i
UNION ALL
SELECT 2::numeric ^ 52 + i + 0.5 FROM generate_series(0, 999) i
UNION ALL
SELECT 2::numeric ^ 51 + i / 2.0 + 0.25 FROM generate_series(0, 999) i
UNION ALL
SELECT (2::numeric ^ 53 + 2 * i + 1) / 10::numeric ^ (i % 28) FROM generate_series(0, 999) i;
-- And 19-digit decimals within half a 64-bit ulp of such a midpoint, on the side of the odd
-- double: rounded to 64 bits first they would land on the midpoint and then go to the even
-- double, the wrong one (found with exact rational arithmetic: test/reference/midpoints.py).
INSERT INTO many (v) VALUES
  ('0.01151264932279427982'), ('1264756891717180254000000000000000000'), ('1818332943325373099000000000000000000000'), ('18.06501982032196274'),
  ('0.00001883227814438165569'), ('193.8125916640844224'), ('11552521411891555250000000000000000000'), ('13044171379592324420000000000'),
  ('108057689703610573800000000000000000000'), ('155038654223103279100'), ('14374305285407746440000000000000000000000'), ('0.01945702083456066038'),
  ('1599423369260344307000000000000000'), ('0.001639181945726254550'), ('16210530877447466220000000000000'), ('120.2776386921837215'),
  ('1977408074899327772000000000000000000'), ('0.01436449583758580336'), ('128372.9753011770008'), ('0.01273820558161966026'),
  ('1354746.168729614350'), ('1951768577635285276000000000000000'), ('1668457924586852685000000000'), ('1688554205012.954956'),
  ('1320992801163988200000000'), ('1767248962768317707000000000000'), ('14678.98210266431397'), ('10568529265448507080000000000000000'),
  ('188932531035360513900000000000000000000'), ('133521940024016648300000000000000'), ('161.9079084563209534'), ('1178971365.430732131'),
  ('1668775614893745111000'), ('1693869236264259290000000000000'), ('1120381258877659409000000000000'), ('19220373910642728370000'),
  ('178707793165577695000000'), ('0.1872390409936626060'), ('1936.740109894581451'), ('1615332.252001331537'),
  ('0.1303903633334585338'), ('0.00000001378822723744365019'), ('19.08706572843516902'), ('160914865626.7197113'),
  ('1222483289828029838000000000000000000000'), ('10746038793197660540000000000000'), ('174108304.5442969650'), ('188285.8036325675057'),
  ('17839673536543007660000000000000000000'), ('1177713547948940638000000000000000'), ('11294738570214590560000000000000'), ('188579744413658818900000000000000000'),
  ('1974173896260.130249'), ('0.01559175092391541350'), ('182842902610.9563446'), ('1790743969295552471000000000000'),
  ('117358267864118338400000000000'), ('0.00000001066789295540267451'), ('172875456715980697400000000000000000'), ('12817085894897962010000000000'),
  ('119673251.9368205592'), ('13638767806997190410000'), ('10048998474501397140000000000'), ('1089783216.771389842'),
  ('19942652415518661000000000000000000000000'), ('1686878928292046108000000000000000000'), ('137.0482380436585430'), ('0.001901588206915361969'),
  ('1201908173485763330000'), ('120463763912.2069931'), ('15.19805744928871416'), ('1027658099347034571000000'),
  ('1871271372908761331000000000000'), ('1471829023897406069000000'), ('19.49305464971759072'), ('1851574915638.458374'),
  ('1311124.371200704365'), ('0.0000001124230519227774590'), ('0.1472773484575010533'), ('10.46330420293743213');
SELECT count(*) FILTER (WHERE ml_predict_one(m, jsonb_build_object('a', v)) = v::float8) AS jsonb_exact,
       count(*) FILTER (WHERE ml_predict_one(m, r) = v::float8) AS row_exact, count(*) AS total
FROM many, unit, LATERAL (SELECT v AS a) r;
-- Every numeric column type, bool, and float4 (widened exactly); int8 beyond 2^53 rounds.
SELECT ml_predict_one(m, (SELECT r FROM (SELECT 32767::int2 AS a) r)) AS int2,
       ml_predict_one(m, (SELECT r FROM (SELECT 2147483647::int4 AS a) r)) AS int4,
       ml_predict_one(m, (SELECT r FROM (SELECT 9007199254740993::int8 AS a) r)) AS int8_rounded,
       ml_predict_one(m, (SELECT r FROM (SELECT 0.1::float4 AS a) r)) = 0.1::float4::float8 AS float4_widened,
       ml_predict_one(m, (SELECT r FROM (SELECT 0.1::float8 AS a) r)) = 0.1::float8 AS float8,
       ml_predict_one(m, (SELECT r FROM (SELECT true AS a) r)) AS bool_true,
       ml_predict_one(m, (SELECT r FROM (SELECT false AS a) r)) AS bool_false
FROM unit;
SELECT ml_predict_one(m, '{"a": true}'::jsonb) AS jtrue, ml_predict_one(m, '{"a": false}'::jsonb) AS jfalse,
       ml_predict_one(m, '{"a": null}'::jsonb) AS jnull, ml_predict_one(m, '{"a": "1"}'::jsonb) AS jstring_is_category,
       ml_predict_one(m, ARRAY[0.1]::float8[]) AS array_x1_unknown
FROM unit;
-- Values out of double range: too large is an error (infinite), too small rounds to 0 as strtod does.
SELECT ml_predict_one(m, '{"a": 1e309}'::jsonb) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, '{"a": -1e400}'::jsonb) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, '{"a": 1e-400}'::jsonb) AS underflow FROM unit;
-- NaN and infinite numeric or float columns are errors naming the feature; in jsonb they are
-- the strings "NaN", "Infinity", "-Infinity", refused the same way (more in nan_in_jsonb.sql).
SELECT ml_predict_one(m, (SELECT r FROM (SELECT 'NaN'::numeric AS a) r)) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, (SELECT r FROM (SELECT 'Infinity'::numeric AS a) r)) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, (SELECT r FROM (SELECT '-Infinity'::float8 AS a) r)) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, (SELECT r FROM (SELECT 'NaN'::float4 AS a) r)) FROM unit;
\echo :LAST_ERROR_SQLSTATE
SELECT to_jsonb('NaN'::numeric) AS nan_in_jsonb;
SELECT ml_predict_one(m, jsonb_build_object('a', 'NaN'::numeric)) FROM unit;
\echo :LAST_ERROR_SQLSTATE

-- Categorical names: key=value, for jsonb strings and text-like columns; values may hold any
-- character, including "=" and spaces; the empty string is a value too.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"k": "a=b", "s": " x ", "e": "", "u": "été", "": 1}'::jsonb, 1)) -> 'features' AS names;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 'x'::char(3) AS c, ''::varchar AS v, 'lab'::name AS n) r), 1)) -> 'features' AS names;
-- The same category scores the same whatever the form.
CREATE TYPE mood AS ENUM ('sad', 'happy');
SELECT ml_predict_one(m, '{"k": "happy"}'::jsonb) AS from_jsonb,
       ml_predict_one(m, (SELECT r FROM (SELECT 'happy'::mood AS k) r)) AS from_enum,
       ml_predict_one(m, (SELECT r FROM (SELECT 'happy'::text AS k) r)) AS from_text,
       ml_predict_one(m, (SELECT r FROM (SELECT 'happy'::char(8) AS k) r)) AS from_char,
       ml_predict_one(m, (SELECT r FROM (SELECT 'happy'::name AS k) r)) AS from_name
FROM (SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"k": "happy"}'::jsonb, 1) AS m) s;
-- Long names: up to 1024 bytes (with the value) are fine, more is an error (54000).
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('k', 1024), 1), 1)) -> 'n_features' AS n;
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('k', 1025), 1), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('k', 1000), repeat('v', 24)), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('k', repeat('v', 2000)));
\echo :LAST_ERROR_SQLSTATE
-- Many features in one example.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT jsonb_object_agg('f' || i, i) FROM generate_series(1, 5000) i), 1)) -> 'n_features' AS n;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT array_agg(i::float8) FROM generate_series(1, 5000) i), 1)) -> 'n_features' AS n;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 4}', (SELECT jsonb_object_agg('f' || i, 1) FROM generate_series(1, 20000) i), 1)) -> 'n_features' AS remembered;
