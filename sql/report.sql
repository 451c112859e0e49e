-- ml_report('name') (docs/report.md): one self-contained HTML page about a model. Here: a model
-- without monitoring data (each section says so), the page well-formed as XML (XHTML syntax),
-- escaping of names and notes, and bad input. test/integration/test_report_browser.py renders the
-- demo's full report in Chromium.
CREATE SCHEMA report;
SET search_path = report, public;

-- user did: ask for the report of a model that does not exist, or of NULL.
\set VERBOSITY sqlstate
SELECT ml_report('no such model');
SELECT ml_report(NULL);
\set VERBOSITY default
SELECT ml_report('no such model');

-- user did: register a model (notes with markup in them) and ask for its report before anything
-- was monitored.
SELECT ml_register('report_demo', ml_fit('{"model": "logistic_regression"}', jsonb_build_object('x', i), i % 2 = 0),
                   notes => 'trained on <last> "month" & more') AS version
FROM generate_series(1, 20) i;
SELECT count(*) AS deployed FROM (SELECT ml_deploy('report_demo', 1)) d;
CREATE TABLE r AS SELECT ml_report('report_demo') AS html;
SELECT xml_is_well_formed_document(html) AS well_formed,
       left(html, 15) AS doctype,
       substring(html FROM '<title>([^<]*)</title>') AS title,
       html LIKE '%<td>trained on &lt;last&gt; &quot;month&quot; &amp; more</td>%' AS escaped_notes,
       html NOT LIKE '%<last>%' AS no_raw_markup,
       html NOT LIKE '%http%' AS no_fetch,
       html NOT LIKE '%<script%' AS no_script
FROM r;
-- Every section is there, saying what it lacks.
SELECT s.section, html ~ ('<h2 id="' || s.section || '">') AS present
FROM r, unnest(ARRAY['versions', 'deployments', 'metrics', 'latest', 'drift', 'quality', 'health']) s(section);
SELECT m[1] AS says FROM r, regexp_matches(html, '<p class="empty">([^<]*)</p>', 'g') m;
-- The versions table and the history hold the registration and the deployment.
SELECT html ~ '<tr><td>1</td><td>production</td><td>logistic_regression</td><td>20</td>'
       AND html ~ '<td>deploy</td><td>production</td>' AS versions_and_history
FROM r;

DROP SCHEMA report CASCADE;
RESET search_path;
