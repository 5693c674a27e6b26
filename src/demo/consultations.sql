-- Demo hearings and a consultation on the law on public associations, with submissions in every response status.
INSERT INTO engagements (id, kind, title, summary, status, starts_on, ends_on, region_code, sphere_codes, visibility, owner_organization_id, documents) VALUES
 ('0193a000-0000-7000-8000-0000000e1001', 'hearing', 'Общественные слушания о реформе милиции',
  'Гражданское общество изложило факты нарушений прав задержанных и рекомендации органам внутренних дел.', 'held', '2026-04-02', NULL,
  'TJ-DU', '{public_order,human_rights,access_to_justice}', 'public', '0193a000-0000-7000-8000-00000000b001', '[]'),
 ('0193a000-0000-7000-8000-0000000e1002', 'hearing', 'Общественные слушания по профилактике насилия в семье',
  'Кризисные центры и участковые инспекторы: что мешает защитить пострадавших.', 'held', '2026-05-20', NULL,
  'TJ-SU', '{domestic_violence,gender,vulnerable_groups}', 'public', '0193a000-0000-7000-8000-00000000b002', '[]'),
 ('0193a000-0000-7000-8000-0000000e2001', 'consultation', 'Проект Закона Республики Таджикистан «Об общественных объединениях» (новая редакция)',
  'Общественное обсуждение проекта закона, регулирующего создание и деятельность общественных объединений.', 'closed', '2026-02-01', '2026-03-01',
  'TJ', '{human_rights,minority_rights}', 'public', '0193a000-0000-7000-8000-00000000b005', '[]')
ON CONFLICT (id) DO NOTHING;

INSERT INTO hearings (id, location, participants_count, findings, media) VALUES
 ('0193a000-0000-7000-8000-0000000e1001', 'Душанбе, Дом печати', 85,
  'Задержанным не разъясняют права; адвокат допускается через несколько часов после задержания.',
  '[{"outlet": "Информационное агентство «Ахбори ҷамъиятӣ»", "url": null}]'),
 ('0193a000-0000-7000-8000-0000000e1002', 'Худжанд', 60,
  'Пострадавших направляют домой «мириться»; не хватает мест в кризисных центрах.', '[]')
ON CONFLICT (id) DO NOTHING;

INSERT INTO hearing_organizers (hearing_id, organization_id, position) VALUES
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-00000000b001', 0),
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-00000000b005', 1),
 ('0193a000-0000-7000-8000-0000000e1002', '0193a000-0000-7000-8000-00000000b002', 0)
ON CONFLICT DO NOTHING;

INSERT INTO hearing_invited_agencies (hearing_id, agency_id, position, attended) VALUES
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-00000000a004', 0, true),
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-00000000a010', 1, false),
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-00000000a009', 2, true),
 ('0193a000-0000-7000-8000-0000000e1002', '0193a000-0000-7000-8000-00000000a008', 0, true),
 ('0193a000-0000-7000-8000-0000000e1002', '0193a000-0000-7000-8000-00000000a013', 1, true)
ON CONFLICT DO NOTHING;

INSERT INTO consultations (id, act_type, responsible_agency_id, level, opens_on, closes_on, draft_url, adopted_act) VALUES
 ('0193a000-0000-7000-8000-0000000e2001', 'law', '0193a000-0000-7000-8000-00000000a005', 'national', '2026-02-01', '2026-03-01',
  'https://example.tj/demo/draft-law-public-associations.pdf', NULL)
ON CONFLICT (id) DO NOTHING;

INSERT INTO submissions (id, consultation_id, provision, proposal, rationale, submitted_on, response_status, response_text, responded_on) VALUES
 ('0193a000-0000-7000-8000-0000000e3001', '0193a000-0000-7000-8000-0000000e2001', 'Статья 12, часть 3',
  'Исключить требование ежегодной перерегистрации общественных объединений', 'Избыточная административная нагрузка на малые НПО', '2026-02-10', 'accepted',
  'Требование исключено из проекта', '2026-03-20'),
 ('0193a000-0000-7000-8000-0000000e3002', '0193a000-0000-7000-8000-0000000e2001', 'Статья 15',
  'Установить уведомительный порядок получения иностранной помощи', 'Разрешительный порядок задерживает программы на месяцы', '2026-02-15', 'partially_accepted',
  'Срок рассмотрения сокращён до 15 дней', '2026-03-20'),
 ('0193a000-0000-7000-8000-0000000e3003', '0193a000-0000-7000-8000-0000000e2001', 'Статья 22',
  'Отменить право органа юстиции приостанавливать деятельность без решения суда', 'Противоречит праву на свободу объединений', '2026-02-20', 'rejected',
  'Норма сохранена', '2026-03-20'),
 ('0193a000-0000-7000-8000-0000000e3004', '0193a000-0000-7000-8000-0000000e2001', 'Статья 8',
  'Разрешить неформальным инициативным группам открывать счета', NULL, '2026-02-25', 'not_considered', NULL, '2026-03-20'),
 ('0193a000-0000-7000-8000-0000000e3005', '0193a000-0000-7000-8000-0000000e2001', 'Статья 30',
  'Упростить форму ежегодного отчёта для организаций с бюджетом до 50 000 сомони', NULL, '2026-03-04', 'pending', NULL, NULL)
ON CONFLICT (id) DO NOTHING;

-- The demo's answers were recorded by the responsible agencies themselves.
UPDATE submissions s
SET response_source = 'agency', response_recorder_role = 'agency_officer',
    response_recorder_agency_id = c.responsible_agency_id, response_recorded_at = s.responded_on::timestamptz
FROM consultations c
WHERE c.id = s.consultation_id AND s.response_status <> 'pending' AND s.response_source IS NULL
  AND s.id::text LIKE '0193a000-%';

INSERT INTO submission_organizations (submission_id, organization_id, position) VALUES
 ('0193a000-0000-7000-8000-0000000e3001', '0193a000-0000-7000-8000-00000000b005', 0),
 ('0193a000-0000-7000-8000-0000000e3001', '0193a000-0000-7000-8000-00000000b001', 1),
 ('0193a000-0000-7000-8000-0000000e3002', '0193a000-0000-7000-8000-00000000b004', 0),
 ('0193a000-0000-7000-8000-0000000e3003', '0193a000-0000-7000-8000-00000000b001', 0),
 ('0193a000-0000-7000-8000-0000000e3004', '0193a000-0000-7000-8000-00000000b006', 0),
 ('0193a000-0000-7000-8000-0000000e3005', '0193a000-0000-7000-8000-00000000b003', 0)
ON CONFLICT DO NOTHING;

-- Derived parties, rewritten so that a second load stays idempotent.
DELETE FROM engagement_parties WHERE engagement_id IN
 ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-0000000e1002', '0193a000-0000-7000-8000-0000000e2001');
INSERT INTO engagement_parties (engagement_id, organization_id, agency_id, role)
SELECT hearing_id, organization_id, NULL, 'organizer' FROM hearing_organizers
 WHERE hearing_id IN ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-0000000e1002')
UNION ALL
SELECT hearing_id, NULL, agency_id, CASE WHEN attended THEN 'participant' ELSE 'invited' END FROM hearing_invited_agencies
 WHERE hearing_id IN ('0193a000-0000-7000-8000-0000000e1001', '0193a000-0000-7000-8000-0000000e1002')
UNION ALL
SELECT id, NULL, responsible_agency_id, 'responsible' FROM consultations WHERE id = '0193a000-0000-7000-8000-0000000e2001'
UNION ALL
SELECT DISTINCT s.consultation_id, so.organization_id, NULL::uuid, 'submitter' FROM submissions s
  JOIN submission_organizations so ON so.submission_id = s.id WHERE s.consultation_id = '0193a000-0000-7000-8000-0000000e2001';

INSERT INTO recommendations (id, engagement_id, text, addressed_to_agency_id, issued_on, due_on, priority, status, visibility,
                             issuer_organization_id, status_source)
SELECT v.id::uuid, v.engagement_id::uuid, v.text, v.addressed_to_agency_id::uuid, v.issued_on::date, v.due_on::date,
       v.priority, v.status, v.visibility,
       (SELECT e.owner_organization_id FROM engagements e WHERE e.id = v.engagement_id::uuid),
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo' ELSE 'agency' END
FROM (VALUES
 ('0193a000-0000-7000-8000-00000000f009', '0193a000-0000-7000-8000-0000000e1001', 'Разъяснять задержанным их права письменно, на понятном им языке', '0193a000-0000-7000-8000-00000000a004', '2026-04-02', '2026-10-01', 'high', 'acknowledged', 'public'),
 ('0193a000-0000-7000-8000-00000000f010', '0193a000-0000-7000-8000-0000000e1002', 'Открыть кризисный центр в каждом районе Согдийской области', '0193a000-0000-7000-8000-00000000a012', '2026-05-20', '2027-05-20', 'normal', 'issued', 'public')
) AS v (id, engagement_id, text, addressed_to_agency_id, issued_on, due_on, priority, status, visibility)
ON CONFLICT (id) DO NOTHING;

INSERT INTO recommendation_status_history (id, recommendation_id, status, note, changed_at, recorder_role, effective_on, source)
SELECT v.id::uuid, v.recommendation_id::uuid, v.status, v.note, v.changed_at::timestamptz,
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo_member' ELSE 'agency_officer' END,
       (v.changed_at::timestamptz AT TIME ZONE 'Asia/Dushanbe')::date,
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo' ELSE 'agency' END
FROM (VALUES
 ('0193a000-0000-7000-8000-0000000f0901', '0193a000-0000-7000-8000-00000000f009', 'issued', NULL, '2026-04-02 12:00:00+00'),
 ('0193a000-0000-7000-8000-0000000f0902', '0193a000-0000-7000-8000-00000000f009', 'acknowledged', 'МВД подготовит памятку', '2026-05-05 09:00:00+00'),
 ('0193a000-0000-7000-8000-0000000f1001', '0193a000-0000-7000-8000-00000000f010', 'issued', NULL, '2026-05-20 12:00:00+00')
) AS v (id, recommendation_id, status, note, changed_at)
ON CONFLICT (id) DO NOTHING;
