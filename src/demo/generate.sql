-- Synthetic engagements of every kind for benchmarks, set-based (one INSERT … SELECT per table).
-- Placeholders (replaced by `demo::generate` with numbers, never client input): @SEED@, @ORGS@, @AGENCIES@,
-- @COUNCILS@, @FACILITIES@, @ENGAGEMENTS@. Every value is a function of the seed and a row number, so a seed
-- always makes the same data; ids are md5 of seed, table and number (so a second run needs another seed), and the
-- records the server would create over time (engagements, submissions, recommendations and their history) get ids
-- of UUID version 7 as the server makes them, led by their creation time: as in a live database, the order of
-- their ids, in which they are written, is the order they were recorded in.
-- Dates span the ten years before 2026-12-01, the fixed "today" that decides what is still planned.

-- The statistics' tallies and the recommendation and submission facts are rebuilt once at the end, set-based,
-- rather than kept statement by statement while a million rows arrive.
SET LOCAL hamkori.deferred_tallies = on;

-- The tables filled here (directly, or by their triggers) are made ready for a bulk load, and put back at the end:
-- - their secondary indexes are set aside and built once at the end: one sorted pass per index instead of
--   millions of scattered inserts into each (unique indexes stay, since conflicts are checked against them);
-- - their foreign keys too: checked row by row, each reference costs a lookup and a row lock (tens of millions
--   here); added back at the end, each is validated by one join over its whole table;
-- - their triggers only keep derived rows (search entries, the party timeline, the tallies, the recommendation
--   facts): they are paused, and those rows are derived once, set-based, at the end.
-- All of it inside the loader's one transaction, which holds the tables' locks until it commits: a benchmark
-- loader, not something to run beside users.
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';
CREATE TEMP TABLE gen_loaded AS
SELECT t.oid::regclass AS name
FROM pg_class t
WHERE t.relnamespace = 'public'::regnamespace AND t.relkind = 'r'
  AND t.relname IN ('engagements', 'meetings', 'meeting_attendance', 'hearings', 'hearing_organizers',
                    'hearing_invited_agencies', 'consultations', 'submissions', 'submission_organizations',
                    'monitoring_visits', 'visit_monitors', 'visit_findings', 'grants', 'engagement_parties',
                    'recommendations', 'recommendation_status_history', 'search_entries', 'engagement_timeline');
-- What to run to set each aside, and to put it back.
CREATE TEMP TABLE gen_set_aside AS
SELECT 1 AS step, format('DROP INDEX %s', i.indexrelid::regclass) AS set_aside,
       pg_get_indexdef(i.indexrelid) AS put_back
FROM pg_index i
WHERE i.indrelid IN (SELECT name FROM gen_loaded)
  AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
UNION ALL
SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid IN (SELECT name FROM gen_loaded)
UNION ALL
SELECT 3, format('ALTER TABLE %s DISABLE TRIGGER USER', name), format('ALTER TABLE %s ENABLE TRIGGER USER', name)
FROM gen_loaded;
CREATE FUNCTION pg_temp.run(statements text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
SELECT pg_temp.run(ARRAY(SELECT set_aside FROM gen_set_aside ORDER BY step));

-- A uniform number in [0, 1) for row `g` and a purpose `salt`, and the id of row `g` of a table `tag`.
CREATE FUNCTION pg_temp.u(g bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
  $$ SELECT (hashint8extended(g, @SEED@::bigint * 1000 + salt) & 9007199254740991)::float8 / 9007199254740992 $$;
CREATE FUNCTION pg_temp.id(tag text, g bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  $$ SELECT md5('@SEED@:' || tag || ':' || g)::uuid $$;
-- The id of row `g` of a table `tag` recorded at `at` (UTC): a UUID version 7, its first 48 bits the milliseconds
-- since 1970, the rest from the md5 (with the version and variant bits set).
CREATE FUNCTION pg_temp.id_at(tag text, g bigint, at timestamp) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  $$ SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3)
             || substr('89ab', 1 + get_byte(decode(substr(h, 4, 2), 'hex'), 0) % 4, 1) || substr(h, 6, 15))::uuid
     FROM md5('@SEED@:' || tag || ':' || g) AS h $$;
-- Skewed choice of 1..n: a few rows take most of the picks.
CREATE FUNCTION pg_temp.pick(n int, g bigint, salt int) RETURNS int LANGUAGE sql IMMUTABLE AS
  $$ SELECT 1 + floor(n * pg_temp.u(g, salt) ^ 3)::int $$;

-- Councils, each hosted by an agency; a tenth restricted, a fifth internal.
INSERT INTO councils (id, name, kind, level, host_agency_id, region_code, sphere_codes, established_on, visibility, created_at)
SELECT pg_temp.id('c', k), 'Общественный совет ' || k,
       (ARRAY['public_council','coordination_council','expert_council','commission','working_group'])[1 + k % 5],
       (ARRAY['national','regional','district','city'])[1 + k % 4],
       pg_temp.id('a', 1 + (k - 1) % @AGENCIES@),
       (ARRAY['TJ','TJ-DU','TJ-SU','TJ-KT','TJ-GB','TJ-RA'])[1 + k % 6],
       ARRAY[(ARRAY['human_rights','health','education','gender','environment','migration','public_order'])[1 + k % 7]],
       date '2012-01-01' + k,
       CASE WHEN k % 10 = 0 THEN 'restricted' WHEN k % 10 IN (1, 2) THEN 'internal' ELSE 'public' END,
       timestamptz '2016-01-01' + make_interval(secs => k)
FROM generate_series(1, @COUNCILS@) AS k;

-- Council seats: the host agency chairs, another agency observes, and 4-12 organisations sit (the busiest ones on
-- most councils), each once per council; about a third of the organisations' terms have ended.
INSERT INTO council_members (id, council_id, organization_id, agency_id, role, representative_name, since, until, created_at)
SELECT pg_temp.id('cm', k * 1000 + seat), pg_temp.id('c', k), NULL, pg_temp.id('a', agency),
       CASE seat WHEN 1 THEN 'chair' ELSE 'observer' END, 'Представитель ведомства ' || seat,
       date '2012-01-01' + k, NULL, timestamptz '2016-01-01' + make_interval(secs => k * 1000 + seat)
FROM generate_series(1, @COUNCILS@) AS k
CROSS JOIN LATERAL (VALUES (1, 1 + (k - 1) % @AGENCIES@), (2, 1 + (k * 7) % @AGENCIES@)) AS a(seat, agency)
UNION ALL
SELECT pg_temp.id('cm', k * 1000 + 100 + seat), pg_temp.id('c', k), pg_temp.id('o', o), NULL,
       CASE seat WHEN 1 THEN 'deputy_chair' WHEN 2 THEN 'secretary' ELSE 'member' END,
       'Представитель организации ' || seat, date '2012-01-01' + k + 30 * seat,
       CASE WHEN pg_temp.u(k * 1000 + seat, 960) < 0.3 THEN date '2012-01-01' + k + 30 * seat + 365 * (1 + seat % 5) END,
       timestamptz '2016-01-01' + make_interval(secs => k * 1000 + 100 + seat)
FROM (SELECT DISTINCT ON (k, o) k, seat, o
      FROM generate_series(1, @COUNCILS@) AS k
      CROSS JOIN LATERAL generate_series(1, 4 + k % 9) AS seat
      CROSS JOIN LATERAL pg_temp.pick(@ORGS@, k * 1000 + seat, 950) AS o
      ORDER BY k, o, seat) AS seats;

-- Places of detention and care, operated by agencies.
INSERT INTO facilities (id, name, facility_type, operating_agency_id, region_code, capacity, created_at)
SELECT pg_temp.id('f', k), 'Учреждение ' || k,
       (ARRAY['temporary_detention','pretrial_detention','police_station','prison','psychiatric_institution',
              'social_care_home','children_institution','migrant_detention','military','other'])[1 + k % 10],
       pg_temp.id('a', pg_temp.pick(@AGENCIES@, k, 900)),
       (ARRAY['TJ-DU','TJ-SU','TJ-KT','TJ-GB','TJ-RA'])[1 + k % 5], 20 + k % 500,
       timestamptz '2016-01-01' + make_interval(secs => k)
FROM generate_series(1, @FACILITIES@) AS k;

-- What every engagement is, decided once: kind, day, who takes part (organisations o1..o3 distinct, agencies
-- a1, a2 distinct), council, facility.
-- Kept in id order, so that every table keyed by the engagement's id is filled in key order (one pass along
-- each index instead of scattered page writes).
CREATE TEMP TABLE gen_e AS
SELECT x.*, CASE kind
        WHEN 'meeting' THEN CASE WHEN tense = 'future' THEN 'planned' WHEN u_status < 0.9 THEN 'held'
                                 WHEN u_status < 0.95 THEN 'cancelled' ELSE 'postponed' END
        WHEN 'hearing' THEN CASE WHEN tense = 'future' THEN 'planned' WHEN u_status < 0.92 THEN 'held' ELSE 'cancelled' END
        WHEN 'consultation' THEN CASE WHEN tense = 'future' THEN 'planned'
                                      WHEN starts_on > date '2026-11-01' THEN 'open'
                                      WHEN u_status < 0.5 THEN 'closed' WHEN u_status < 0.85 THEN 'adopted'
                                      WHEN u_status < 0.93 THEN 'rejected' ELSE 'withdrawn' END
        WHEN 'monitoring_visit' THEN CASE WHEN tense = 'future' THEN 'planned' WHEN u_status < 0.95 THEN 'completed'
                                          ELSE 'cancelled' END
        ELSE CASE WHEN tense = 'future' THEN 'announced' WHEN u_status < 0.05 THEN 'applied'
                  WHEN u_status < 0.15 THEN 'rejected' WHEN u_status < 0.35 THEN 'awarded'
                  WHEN u_status < 0.6 THEN 'active' WHEN u_status < 0.95 THEN 'completed' ELSE 'terminated' END
    END AS status
FROM (
    SELECT g, pg_temp.id_at('e', g, starts_on - 14 + time '09:00') AS id, kind, starts_on,
           CASE WHEN starts_on > date '2026-12-01' THEN 'future' ELSE 'past' END AS tense,
           pg_temp.u(g, 2) AS u_status, pg_temp.u(g, 3) AS u_vis,
           1 + floor(pg_temp.u(g, 11) * 3)::int AS n_orgs,
           o1, 1 + (o1 - 1 + k2) % @ORGS@ AS o2, 1 + (o1 - 1 + k2 + k3) % @ORGS@ AS o3,
           a1, 1 + (a1 - 1 + 1 + floor(pg_temp.u(g, 8) * (@AGENCIES@ - 1))::int) % @AGENCIES@ AS a2,
           c, f
    FROM (
        SELECT g,
               (ARRAY['meeting','meeting','meeting','meeting','meeting','hearing','hearing','hearing','hearing',
                      'consultation','consultation','consultation','consultation','monitoring_visit','monitoring_visit',
                      'monitoring_visit','grant','grant','grant','grant'])[1 + g % 20] AS kind,
               date '2016-12-01' + floor(pg_temp.u(g, 1) * 3700)::int AS starts_on,
               pg_temp.pick(@ORGS@, g, 4) AS o1,
               1 + floor(pg_temp.u(g, 5) * (@ORGS@ / 2))::int AS k2,
               1 + floor(pg_temp.u(g, 6) * (@ORGS@ / 2 - 1))::int AS k3,
               pg_temp.pick(@AGENCIES@, g, 7) AS a1,
               1 + floor(@COUNCILS@ * pg_temp.u(g, 9) ^ 2)::int AS c,
               1 + floor(@FACILITIES@ * pg_temp.u(g, 10) ^ 2)::int AS f
        FROM generate_series(1, @ENGAGEMENTS@) AS g
    ) AS base
) AS x
ORDER BY id;

INSERT INTO engagements (id, kind, title, summary, status, starts_on, ends_on, region_code, sphere_codes,
                         visibility, owner_organization_id, council_id, created_at, updated_at)
SELECT id, kind,
       CASE kind WHEN 'meeting' THEN 'Заседание совета № ' WHEN 'hearing' THEN 'Общественные слушания № '
                 WHEN 'consultation' THEN 'Обсуждение проекта акта № ' WHEN 'monitoring_visit' THEN 'Мониторинговый визит № '
                 ELSE 'Грант № ' END || g,
       CASE WHEN g % 3 = 0 THEN NULL
            ELSE (ARRAY['Права человека и доступ к правосудию', 'Здравоохранение в районах', 'Образование девочек',
                        'Охрана окружающей среды', 'Трудовая миграция', 'Профилактика насилия в семье',
                        'Реформа милиции'])[1 + g % 7] END,
       status, starts_on,
       CASE kind WHEN 'consultation' THEN starts_on + 30 WHEN 'grant' THEN starts_on + 365
                 WHEN 'monitoring_visit' THEN starts_on ELSE starts_on + (g % 2)::int END,
       (ARRAY['TJ','TJ-DU','TJ-SU','TJ-KT','TJ-GB','TJ-RA'])[1 + (g / 20) % 6],
       CASE WHEN g % 4 = 0
            THEN ARRAY[(ARRAY['human_rights','health','education','gender','environment','migration','public_order'])[1 + g % 7],
                       (ARRAY['access_to_justice','domestic_violence','social_services'])[1 + g % 3]]
            ELSE ARRAY[(ARRAY['human_rights','health','education','gender','environment','migration','public_order'])[1 + g % 7]] END,
       CASE WHEN u_vis < 0.75 THEN 'public' WHEN u_vis < 0.95 THEN 'internal' ELSE 'restricted' END,
       CASE kind WHEN 'hearing' THEN pg_temp.id('o', o1) WHEN 'monitoring_visit' THEN pg_temp.id('o', o1)
                 WHEN 'grant' THEN pg_temp.id('o', o1) END,
       CASE WHEN kind = 'meeting' OR (kind = 'monitoring_visit' AND g % 3 = 0) THEN pg_temp.id('c', c) END,
       starts_on - 14 + time '09:00', starts_on - 14 + time '09:00'
FROM gen_e;

-- Meetings: the council's host agency, and 1-3 organisations present or invited.
-- Minutes of the held ones, recorded 1 to 60 days after the meeting (most within a fortnight), never after "today".
INSERT INTO meetings (id, starts_at, location, format, minutes, minutes_recorded_on)
SELECT id, (starts_on + time '10:00') AT TIME ZONE 'Asia/Dushanbe', 'Зал заседаний ' || (g % 9 + 1),
       (ARRAY['in_person','in_person','online','hybrid'])[1 + g % 4],
       CASE WHEN status = 'held' THEN 'Протокол заседания № ' || g END,
       CASE WHEN status = 'held' THEN least(starts_on + 1 + floor(60 * pg_temp.u(g, 41) ^ 3)::int, DATE '2026-12-01') END
FROM gen_e WHERE kind = 'meeting';
INSERT INTO meeting_attendance (meeting_id, position, organization_id, representative_name, present)
SELECT e.id, k, pg_temp.id('o', (ARRAY[e.o1, e.o2, e.o3])[k]), 'Представитель ' || k, pg_temp.u(e.g, 30 + k) > 0.2
FROM gen_e e CROSS JOIN LATERAL generate_series(1, e.n_orgs) AS k
WHERE e.kind = 'meeting';

-- Hearings: 1-2 organising organisations, 1-2 invited agencies.
INSERT INTO hearings (id, location, participants_count, findings)
SELECT id, 'Хукумат района ' || (g % 40 + 1), CASE WHEN status = 'held' THEN 20 + g % 180 END,
       CASE WHEN status = 'held' THEN 'Итоги слушаний № ' || g END
FROM gen_e WHERE kind = 'hearing';
INSERT INTO hearing_organizers (hearing_id, organization_id, position)
SELECT e.id, pg_temp.id('o', (ARRAY[e.o1, e.o2])[k]), k
FROM gen_e e CROSS JOIN LATERAL generate_series(1, 1 + e.n_orgs % 2) AS k
WHERE e.kind = 'hearing';
INSERT INTO hearing_invited_agencies (hearing_id, agency_id, position, attended)
SELECT e.id, pg_temp.id('a', (ARRAY[e.a1, e.a2])[k]), k, pg_temp.u(e.g, 40 + k) > 0.4
FROM gen_e e CROSS JOIN LATERAL generate_series(1, 1 + (e.g / 20) % 2) AS k
WHERE e.kind = 'hearing';

-- Consultations: a responsible agency, 1-3 submissions by distinct organisations, many answered (some by the
-- agency itself, with the recorder's binding filled in).
INSERT INTO consultations (id, act_type, responsible_agency_id, level, opens_on, closes_on, draft_url)
SELECT id, (ARRAY['law','code','decree','government_resolution','regulation','local_act','strategy','other'])[1 + g % 8],
       pg_temp.id('a', a1), (ARRAY['national','regional','district','city','jamoat'])[1 + g % 5],
       starts_on, starts_on + 30, 'https://example.tj/drafts/' || g
FROM gen_e WHERE kind = 'consultation';
CREATE TEMP TABLE gen_s AS
SELECT pg_temp.id_at('s', sg, submitted_on + time '08:00') AS id, *
FROM (
    SELECT e.g * 4 + k AS sg, e.id AS consultation_id, e.g, k,
           (ARRAY[e.o1, e.o2, e.o3])[k] AS org, e.a1,
           d.submitted_on, d.answer_on,
           e.status IN ('closed', 'adopted', 'rejected') AND pg_temp.u(e.g * 4 + k, 61) < 0.75
               AND d.answer_on <= DATE '2026-12-01' AS answered,
           pg_temp.u(e.g * 4 + k, 62) < 0.6 AS by_agency,
           pg_temp.u(e.g * 4 + k, 63) AS u_answer
    FROM gen_e e CROSS JOIN LATERAL generate_series(1, e.n_orgs) AS k
    -- Submitted up to four days after the 30-day comment period (late, one in nine), answered 3 days to about
    -- five months after (most within six weeks); an answer that would fall after "today" has not come yet.
    CROSS JOIN LATERAL (
        SELECT sub.day AS submitted_on, sub.day + 3 + floor(150 * pg_temp.u(e.g * 4 + k, 64) ^ 2.5)::int AS answer_on
        FROM (SELECT least(e.starts_on + floor(pg_temp.u(e.g * 4 + k, 60) * 35)::int, DATE '2026-12-01') AS day) sub
    ) AS d
    WHERE e.kind = 'consultation' AND e.status <> 'planned'
) AS s
ORDER BY 1;
INSERT INTO submissions (id, consultation_id, provision, proposal, rationale, submitted_on, response_status,
                         response_text, responded_on, response_recorder_role, response_recorder_agency_id,
                         response_recorded_at, response_evidence_url, response_source, created_at, updated_at)
SELECT id, consultation_id, 'Статья ' || (1 + sg % 40),
       'Предложение по статье ' || (1 + sg % 40) || ': уточнить формулировку', 'Обоснование ' || sg, submitted_on,
       CASE WHEN NOT answered THEN 'pending' WHEN u_answer < 0.35 THEN 'accepted'
            WHEN u_answer < 0.6 THEN 'partially_accepted' WHEN u_answer < 0.9 THEN 'rejected' ELSE 'not_considered' END,
       CASE WHEN answered THEN 'Ответ ведомства на предложение ' || sg END,
       CASE WHEN answered THEN answer_on END,
       CASE WHEN answered THEN CASE WHEN by_agency THEN 'agency_officer' ELSE 'admin' END END,
       CASE WHEN answered AND by_agency THEN pg_temp.id('a', a1) END,
       CASE WHEN answered THEN answer_on + time '12:00' END,
       CASE WHEN answered AND sg % 2 = 0 THEN 'https://example.tj/answers/' || sg END,
       CASE WHEN answered THEN CASE WHEN by_agency THEN 'agency' ELSE 'admin' END END,
       submitted_on + time '08:00', coalesce(CASE WHEN answered THEN answer_on END, submitted_on) + time '12:00'
FROM gen_s;
INSERT INTO submission_organizations (submission_id, organization_id, position)
SELECT id, pg_temp.id('o', org), 1 FROM gen_s;

-- Monitoring visits: 1-3 monitors, the facility's operating agency; findings on completed ones, some confidential.
INSERT INTO monitoring_visits (id, facility_id, announced, mandate_council_id, access)
SELECT id, pg_temp.id('f', f), g % 5 = 0, CASE WHEN g % 3 = 0 THEN pg_temp.id('c', c) END,
       CASE WHEN status = 'completed' THEN (ARRAY['granted','granted','granted','partial','refused'])[1 + g % 5] END
FROM gen_e WHERE kind = 'monitoring_visit';
INSERT INTO visit_monitors (visit_id, organization_id, position)
SELECT e.id, pg_temp.id('o', (ARRAY[e.o1, e.o2, e.o3])[k]), k
FROM gen_e e CROSS JOIN LATERAL generate_series(1, e.n_orgs) AS k
WHERE e.kind = 'monitoring_visit';
INSERT INTO visit_findings (visit_id, position, category, severity, description, confidential)
SELECT e.id, k,
       (ARRAY['conditions','treatment','legal_safeguards','health_care','food_water','contact_with_outside',
              'documentation','staff_conduct','other'])[1 + (e.g + k) % 9],
       (ARRAY['info','minor','minor','serious','critical'])[1 + (e.g * 7 + k) % 5],
       'Наблюдение ' || k || ' визита ' || e.g, pg_temp.u(e.g * 4 + k, 70) < 0.25
FROM gen_e e CROSS JOIN LATERAL generate_series(1, (e.g / 20) % 4) AS k
WHERE e.kind = 'monitoring_visit' AND e.status = 'completed';

-- Grants: a funder (agency or organisation) and a recipient organisation; several currencies.
INSERT INTO grants (id, support_type, funder_agency_id, funder_organization_id, recipient_organization_id, program,
                    amount, currency, awarded_on)
SELECT id, (ARRAY['grant','grant','subsidy','state_social_order','premises','tax_benefit','in_kind','other'])[1 + g % 8],
       CASE WHEN pg_temp.u(g, 80) < 0.6 THEN pg_temp.id('a', a1) END,
       CASE WHEN pg_temp.u(g, 80) >= 0.6 THEN pg_temp.id('o', o2) END,
       pg_temp.id('o', o1), 'Программа ' || (1 + g % 25),
       round((1000 + pg_temp.u(g, 81) ^ 2 * 500000)::numeric, 2),
       (ARRAY['TJS','TJS','TJS','USD','USD','EUR','RUB'])[1 + g % 7],
       CASE WHEN status IN ('awarded', 'active', 'completed', 'terminated') THEN starts_on + 30 END
FROM gen_e WHERE kind = 'grant';

-- Parties, derived exactly as the kinds derive them when they write (`derive_parties`, `parties()`, the
-- consultation's responsible agency and distinct submitters), in the order they write them.
INSERT INTO engagement_parties (engagement_id, organization_id, agency_id, role)
SELECT e.id, p.organization_id, p.agency_id, p.role
FROM gen_e e
CROSS JOIN LATERAL (
    SELECT 0 AS position, NULL::uuid AS organization_id, pg_temp.id('a', 1 + (e.c - 1) % @AGENCIES@) AS agency_id,
           'host' AS role WHERE e.kind = 'meeting'
    UNION ALL
    SELECT k, pg_temp.id('o', (ARRAY[e.o1, e.o2, e.o3])[k]), NULL,
           CASE WHEN pg_temp.u(e.g, 30 + k) > 0.2 THEN 'participant' ELSE 'invited' END
    FROM generate_series(1, e.n_orgs) AS k WHERE e.kind = 'meeting'
    UNION ALL
    SELECT k, pg_temp.id('o', (ARRAY[e.o1, e.o2])[k]), NULL, 'organizer'
    FROM generate_series(1, 1 + e.n_orgs % 2) AS k WHERE e.kind = 'hearing'
    UNION ALL
    SELECT 10 + k, NULL, pg_temp.id('a', (ARRAY[e.a1, e.a2])[k]),
           CASE WHEN pg_temp.u(e.g, 40 + k) > 0.4 THEN 'participant' ELSE 'invited' END
    FROM generate_series(1, 1 + (e.g / 20) % 2) AS k WHERE e.kind = 'hearing'
    UNION ALL
    SELECT 0, NULL, pg_temp.id('a', e.a1), 'responsible' WHERE e.kind = 'consultation'
    UNION ALL
    SELECT k, pg_temp.id('o', (ARRAY[e.o1, e.o2, e.o3])[k]), NULL, 'submitter'
    FROM generate_series(1, e.n_orgs) AS k WHERE e.kind = 'consultation' AND e.status <> 'planned'
    UNION ALL
    SELECT k, pg_temp.id('o', (ARRAY[e.o1, e.o2, e.o3])[k]), NULL, 'monitor'
    FROM generate_series(1, e.n_orgs) AS k WHERE e.kind = 'monitoring_visit'
    UNION ALL
    SELECT 10, NULL, f.operating_agency_id, 'operator'
    FROM facilities f WHERE e.kind = 'monitoring_visit' AND f.id = pg_temp.id('f', e.f)
    UNION ALL
    SELECT 0, CASE WHEN pg_temp.u(e.g, 80) >= 0.6 THEN pg_temp.id('o', e.o2) END,
           CASE WHEN pg_temp.u(e.g, 80) < 0.6 THEN pg_temp.id('a', e.a1) END, 'funder' WHERE e.kind = 'grant'
    UNION ALL
    SELECT 1, pg_temp.id('o', e.o1), NULL, 'recipient' WHERE e.kind = 'grant'
) AS p
ORDER BY e.id, p.position;

-- Recommendations from a third of the held meetings and hearings and the completed visits, addressed to an
-- agency taking part, each with a status history whose provenance is filled in (who recorded it, for which
-- organisation or agency, since when, on whose word).
CREATE TEMP TABLE gen_r AS
SELECT e.g * 2 + k AS rg, pg_temp.id_at('r', e.g * 2 + k, i.issued_on + time '15:00') AS id,
       e.id AS engagement_id, i.issued_on,
       CASE e.kind WHEN 'meeting' THEN 1 + (e.c - 1) % @AGENCIES@ ELSE e.a1 END AS agency,
       CASE WHEN e.kind = 'monitoring_visit' THEN NULL ELSE e.o1 END AS issuer_hint,
       e.kind, e.u_vis, 1 + floor(pg_temp.u(e.g * 2 + k, 90) * 3)::int AS n_steps,
       pg_temp.u(e.g * 2 + k, 91) AS u_final,
       -- A deadline of one to six months on three recommendations in four.
       CASE WHEN (e.g * 2 + k) % 4 <> 0 THEN i.issued_on + (ARRAY[30, 60, 90, 90, 180])[1 + ((e.g * 2 + k) / 4) % 5]
       END AS due_on
FROM gen_e e CROSS JOIN LATERAL generate_series(1, 1 + (pg_temp.u(e.g, 51) < 0.3)::int) AS k
CROSS JOIN LATERAL (SELECT least(e.starts_on + 3, DATE '2026-12-01') AS issued_on) AS i
WHERE ((e.kind IN ('meeting', 'hearing') AND e.status = 'held')
       OR (e.kind = 'monitoring_visit' AND e.status = 'completed'))
  AND pg_temp.u(e.g, 50) < 0.33;
-- A monitoring visit's operator is its facility's agency.
UPDATE gen_r r SET agency = NULL WHERE kind = 'monitoring_visit';
-- The first answer comes 2 days to about six months after the issue (most within two months), a later step 1-7
-- months after that; `no_response` only as the first step after the issue, with a deadline, and after it, as the API
-- requires. Steps that would fall after "today" have not happened yet.
CREATE TEMP TABLE gen_h AS
SELECT rg, recommendation_id, k, n_steps, status, source,
       CASE WHEN status = 'no_response' THEN greatest(effective_on, due_on + 1) ELSE effective_on END AS effective_on
FROM (
    SELECT r.rg, r.id AS recommendation_id, k, r.n_steps, r.due_on,
           r.issued_on + CASE WHEN k >= 2 THEN 2 + floor(170 * pg_temp.u(r.rg, 93) ^ 2.5)::int ELSE 0 END
                       + CASE WHEN k >= 3 THEN 30 + floor(180 * pg_temp.u(r.rg, 94))::int ELSE 0 END AS effective_on,
           CASE WHEN k = 1 THEN 'issued'
                WHEN k < r.n_steps THEN (ARRAY['acknowledged','in_progress'])[1 + r.rg % 2]
                WHEN r.u_final < 0.35 THEN 'implemented' WHEN r.u_final < 0.6 THEN 'partially_implemented'
                WHEN r.u_final < 0.8 THEN 'in_progress' WHEN r.u_final < 0.9 THEN 'rejected'
                -- `no_response` only straight after the issue, and only with a deadline (then after it, below).
                WHEN r.n_steps = 2 AND r.due_on IS NOT NULL THEN 'no_response' ELSE 'in_progress' END AS status,
           CASE WHEN k = 1 THEN 'secretary' WHEN pg_temp.u(r.rg * 4 + k, 92) < 0.6 THEN 'agency' ELSE 'ngo' END AS source
    FROM gen_r r CROSS JOIN LATERAL generate_series(1, r.n_steps) AS k
) AS h;
DELETE FROM gen_h WHERE effective_on > DATE '2026-12-01';
UPDATE gen_r r SET n_steps = h.k FROM (SELECT rg, max(k) AS k FROM gen_h GROUP BY rg) h
 WHERE h.rg = r.rg AND h.k <> r.n_steps;
INSERT INTO recommendations (id, engagement_id, text, addressed_to_agency_id, issued_on, due_on, priority, status,
                             visibility, issuer_organization_id, status_source, created_at, updated_at, version)
SELECT r.id, r.engagement_id, 'Рекомендация № ' || r.rg || ': обеспечить доступ и отчитаться',
       coalesce(pg_temp.id('a', r.agency), ep.agency_id), r.issued_on,
       r.due_on,
       (ARRAY['low','normal','normal','high'])[1 + r.rg % 4], h.status,
       CASE WHEN r.u_vis < 0.8 THEN 'public' ELSE 'internal' END,
       e.owner_organization_id, h.source, r.issued_on + time '15:00', h.effective_on + time '15:00', r.n_steps
FROM gen_r r
JOIN engagements e ON e.id = r.engagement_id
LEFT JOIN engagement_parties ep ON r.agency IS NULL AND ep.engagement_id = r.engagement_id AND ep.role = 'operator'
JOIN gen_h h ON h.rg = r.rg AND h.k = r.n_steps
ORDER BY 1;
INSERT INTO recommendation_status_history (id, recommendation_id, status, note, changed_at, recorder_role,
                                           recorder_organization_id, recorder_agency_id, effective_on,
                                           evidence_url, source)
SELECT pg_temp.id_at('h', h.rg * 4 + h.k, h.effective_on + time '15:00'),
       h.recommendation_id, h.status, 'Шаг ' || h.k, h.effective_on + time '15:00',
       CASE h.source WHEN 'agency' THEN 'agency_officer' WHEN 'ngo' THEN 'ngo_member' ELSE 'secretary' END,
       CASE WHEN h.source = 'ngo' THEN coalesce(rec.issuer_organization_id, pg_temp.id('o', 1)) END,
       CASE WHEN h.source = 'agency' THEN rec.addressed_to_agency_id END,
       h.effective_on, CASE WHEN h.k > 1 AND h.rg % 3 = 0 THEN 'https://example.tj/evidence/' || h.rg || '/' || h.k END,
       h.source
FROM gen_h h JOIN recommendations rec ON rec.id = h.recommendation_id
ORDER BY 1;

-- The derived rows the paused triggers would have written: each actor's timeline (the owner and every party, once
-- per engagement) and the search entries, through the same resync functions the triggers call.
INSERT INTO engagement_timeline (actor_id, starts_on, engagement_id, kind)
SELECT a.actor_id, g.starts_on, g.id, g.kind
FROM gen_e g
JOIN (SELECT id, owner_organization_id AS actor_id FROM engagements WHERE owner_organization_id IS NOT NULL
      UNION
      SELECT engagement_id, coalesce(organization_id, agency_id) FROM engagement_parties) AS a ON a.id = g.id
ORDER BY a.actor_id, g.starts_on, g.id;
SELECT search_resync_engagements(ARRAY(SELECT id FROM gen_e));
SELECT search_resync_recommendations(ARRAY(SELECT id FROM gen_r));
SELECT search_resync_submissions(ARRAY(SELECT id FROM gen_s));
DROP TABLE gen_e, gen_s, gen_r, gen_h;

-- Put back what the start set aside: the indexes, each built in one pass; the foreign keys, each validated by one
-- join; the triggers.
SELECT pg_temp.run(ARRAY(SELECT put_back FROM gen_set_aside ORDER BY step));
DROP TABLE gen_loaded, gen_set_aside;

SELECT engagement_tallies_rebuild();
SELECT grant_tally_rebuild();
SELECT recommendation_facts_rebuild();
SELECT submission_facts_rebuild();
SET LOCAL hamkori.deferred_tallies = off;
