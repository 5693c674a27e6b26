-- Demo facilities of the seed's kind, monitoring visits with findings (some confidential) and follow-up
-- recommendations, and grants of several support types and currencies.
INSERT INTO facilities (id, name, facility_type, operating_agency_id, region_code, address, capacity) VALUES
 ('0193a000-0000-7000-8000-0000000fa001', 'Изолятор временного содержания ОВД района Сино', 'temporary_detention', '0193a000-0000-7000-8000-00000000a004', 'TJ-DU', 'Душанбе, район Сино', 40),
 ('0193a000-0000-7000-8000-0000000fa002', 'Изолятор временного содержания УВД города Худжанда', 'temporary_detention', '0193a000-0000-7000-8000-00000000a013', 'TJ-SU', 'Худжанд', 35),
 ('0193a000-0000-7000-8000-0000000fa003', 'Отдел милиции района Бохтар', 'police_station', '0193a000-0000-7000-8000-00000000a014', 'TJ-KT', 'Бохтар', NULL),
 ('0193a000-0000-7000-8000-0000000fa004', 'Следственный изолятор №1', 'pretrial_detention', '0193a000-0000-7000-8000-00000000a015', 'TJ-DU', 'Душанбе', 600)
ON CONFLICT (id) DO NOTHING;

INSERT INTO engagements (id, kind, title, summary, status, starts_on, region_code, sphere_codes, visibility, owner_organization_id, council_id) VALUES
 ('0193a000-0000-7000-8000-0000000e4001', 'monitoring_visit', 'Мониторинговый визит: ИВС ОВД района Сино',
  'Первичный визит: камеры без естественного освещения, журнал доставленных ведётся с пропусками.', 'completed', '2025-10-14', 'TJ-DU', '{human_rights,public_order}', 'public',
  '0193a000-0000-7000-8000-00000000b001', '0193a000-0000-7000-8000-00000000c005'),
 ('0193a000-0000-7000-8000-0000000e4002', 'monitoring_visit', 'Повторный визит: ИВС ОВД района Сино',
  'Освещение восстановлено, журнал ведётся полностью. Что было и что стало.', 'completed', '2026-06-03', 'TJ-DU', '{human_rights,public_order}', 'public',
  '0193a000-0000-7000-8000-00000000b001', '0193a000-0000-7000-8000-00000000c005'),
 ('0193a000-0000-7000-8000-0000000e4003', 'monitoring_visit', 'Мониторинговый визит: ИВС УВД города Худжанда',
  'Доступ предоставлен частично: монитору не разрешили беседовать с задержанными наедине.', 'completed', '2026-04-22', 'TJ-SU', '{human_rights}', 'internal',
  '0193a000-0000-7000-8000-00000000b003', '0193a000-0000-7000-8000-00000000c005'),
 ('0193a000-0000-7000-8000-0000000e4004', 'monitoring_visit', 'Необъявленный визит: Отдел милиции района Бохтар', NULL, 'planned', '2027-02-10', 'TJ-KT', '{human_rights}', 'internal',
  '0193a000-0000-7000-8000-00000000b001', '0193a000-0000-7000-8000-00000000c005')
ON CONFLICT (id) DO NOTHING;

INSERT INTO monitoring_visits (id, facility_id, announced, mandate_council_id, access) VALUES
 ('0193a000-0000-7000-8000-0000000e4001', '0193a000-0000-7000-8000-0000000fa001', true, '0193a000-0000-7000-8000-00000000c005', 'granted'),
 ('0193a000-0000-7000-8000-0000000e4002', '0193a000-0000-7000-8000-0000000fa001', false, '0193a000-0000-7000-8000-00000000c005', 'granted'),
 ('0193a000-0000-7000-8000-0000000e4003', '0193a000-0000-7000-8000-0000000fa002', false, '0193a000-0000-7000-8000-00000000c005', 'partial'),
 ('0193a000-0000-7000-8000-0000000e4004', '0193a000-0000-7000-8000-0000000fa003', false, '0193a000-0000-7000-8000-00000000c005', NULL)
ON CONFLICT (id) DO NOTHING;

INSERT INTO visit_monitors (visit_id, organization_id, position) VALUES
 ('0193a000-0000-7000-8000-0000000e4001', '0193a000-0000-7000-8000-00000000b001', 0),
 ('0193a000-0000-7000-8000-0000000e4002', '0193a000-0000-7000-8000-00000000b001', 0),
 ('0193a000-0000-7000-8000-0000000e4002', '0193a000-0000-7000-8000-00000000b003', 1),
 ('0193a000-0000-7000-8000-0000000e4003', '0193a000-0000-7000-8000-00000000b003', 0),
 ('0193a000-0000-7000-8000-0000000e4004', '0193a000-0000-7000-8000-00000000b001', 0)
ON CONFLICT DO NOTHING;

INSERT INTO visit_findings (visit_id, position, category, severity, description, confidential) VALUES
 ('0193a000-0000-7000-8000-0000000e4001', 0, 'conditions', 'serious', 'В камерах №2 и №3 нет естественного освещения и вентиляции.', false),
 ('0193a000-0000-7000-8000-0000000e4001', 1, 'documentation', 'minor', 'Журнал доставленных ведётся с пропусками времени доставления.', false),
 ('0193a000-0000-7000-8000-0000000e4001', 2, 'treatment', 'critical', 'Задержанный Р. сообщил о побоях при доставлении; следы зафиксированы врачом.', true),
 ('0193a000-0000-7000-8000-0000000e4002', 0, 'conditions', 'info', 'Освещение и вентиляция в камерах восстановлены.', false),
 ('0193a000-0000-7000-8000-0000000e4003', 0, 'legal_safeguards', 'serious', 'Адвокат допускается лишь через 6–8 часов после задержания.', false),
 ('0193a000-0000-7000-8000-0000000e4003', 1, 'health_care', 'serious', 'Задержанная Н. нуждается в медицинской помощи; фамилия врача и жалоба — у монитора.', true)
ON CONFLICT DO NOTHING;

INSERT INTO engagements (id, kind, title, summary, status, starts_on, ends_on, region_code, sphere_codes, visibility, owner_organization_id) VALUES
 ('0193a000-0000-7000-8000-0000000e5001', 'grant', 'Бесплатная юридическая помощь в сельских районах Хатлона',
  'Консультации и представительство в судах для малоимущих.', 'active', '2026-01-15', '2026-12-31', 'TJ-KT', '{access_to_justice,poverty_reduction}', 'public', '0193a000-0000-7000-8000-00000000b003'),
 ('0193a000-0000-7000-8000-0000000e5002', 'grant', 'Кризисный центр для пострадавших от насилия в семье',
  'Государственный социальный заказ на услуги приюта и психологической помощи.', 'active', '2026-03-01', '2027-02-28', 'TJ-SU', '{domestic_violence,social_services}', 'public', '0193a000-0000-7000-8000-00000000b002'),
 ('0193a000-0000-7000-8000-0000000e5003', 'grant', 'Помещение для молодёжного центра в Хороге', NULL, 'completed', '2024-09-01', '2025-08-31', 'TJ-GB', '{education,human_development}', 'public', '0193a000-0000-7000-8000-00000000b006'),
 ('0193a000-0000-7000-8000-0000000e5004', 'grant', 'Мониторинг мест лишения свободы', 'Поддержка общественных мониторов.', 'completed', '2025-01-01', '2025-12-31', 'TJ', '{human_rights}', 'public', '0193a000-0000-7000-8000-00000000b001'),
 ('0193a000-0000-7000-8000-0000000e5005', 'grant', 'Субсидия на программу профилактики ВИЧ', NULL, 'applied', '2027-01-01', NULL, 'TJ-DU', '{health}', 'internal', '0193a000-0000-7000-8000-00000000b004'),
 ('0193a000-0000-7000-8000-0000000e5006', 'grant', 'Правовое просвещение населения о работе милиции',
  'Государственный социальный заказ МВД: разъяснение прав граждан при задержании.', 'active', '2026-04-01', '2026-12-31', 'TJ', '{public_order,access_to_justice}', 'public', '0193a000-0000-7000-8000-00000000b003')
ON CONFLICT (id) DO NOTHING;

INSERT INTO grants (id, support_type, funder_agency_id, funder_organization_id, recipient_organization_id, program, amount, currency, awarded_on, reports) VALUES
 ('0193a000-0000-7000-8000-0000000e5001', 'grant', '0193a000-0000-7000-8000-00000000a003', NULL, '0193a000-0000-7000-8000-00000000b003', 'Государственные гранты для НПО', 150000.00, 'TJS', '2025-12-20',
  '[{"due_on": "2026-07-15", "submitted_on": "2026-07-10"}, {"due_on": "2027-01-31", "submitted_on": null}]'),
 ('0193a000-0000-7000-8000-0000000e5002', 'state_social_order', '0193a000-0000-7000-8000-00000000a012', NULL, '0193a000-0000-7000-8000-00000000b002', 'Государственный социальный заказ', 320000.00, 'TJS', '2026-02-10',
  '[{"due_on": "2026-09-01", "submitted_on": null}]'),
 ('0193a000-0000-7000-8000-0000000e5003', 'premises', '0193a000-0000-7000-8000-00000000a011', NULL, '0193a000-0000-7000-8000-00000000b006', NULL, 0.00, 'TJS', '2024-08-15', '[]'),
 ('0193a000-0000-7000-8000-0000000e5004', 'grant', NULL, '0193a000-0000-7000-8000-00000000b005', '0193a000-0000-7000-8000-00000000b001', 'Программа поддержки мониторинга', 45000.00, 'USD', '2024-12-10', '[]'),
 ('0193a000-0000-7000-8000-0000000e5005', 'subsidy', '0193a000-0000-7000-8000-00000000a006', NULL, '0193a000-0000-7000-8000-00000000b004', NULL, 20000.00, 'EUR', NULL, '[]'),
 ('0193a000-0000-7000-8000-0000000e5006', 'state_social_order', '0193a000-0000-7000-8000-00000000a004', NULL, '0193a000-0000-7000-8000-00000000b003', 'Государственный социальный заказ', 60000.00, 'TJS', '2026-03-15',
  '[{"due_on": "2027-01-15", "submitted_on": null}]')
ON CONFLICT (id) DO NOTHING;

-- Derived parties, rewritten so that a second load stays idempotent.
DELETE FROM engagement_parties WHERE engagement_id IN (SELECT id FROM monitoring_visits UNION SELECT id FROM grants)
  AND engagement_id::text LIKE '0193a000-0000-7000-8000-0000000e%';
INSERT INTO engagement_parties (engagement_id, organization_id, agency_id, role)
SELECT m.visit_id, m.organization_id, NULL, 'monitor' FROM visit_monitors m WHERE m.visit_id::text LIKE '0193a000-0000-7000-8000-0000000e%'
UNION ALL
SELECT v.id, NULL, f.operating_agency_id, 'operator' FROM monitoring_visits v JOIN facilities f ON f.id = v.facility_id
 WHERE v.id::text LIKE '0193a000-0000-7000-8000-0000000e%'
UNION ALL
SELECT g.id, g.funder_organization_id, g.funder_agency_id, 'funder' FROM grants g WHERE g.id::text LIKE '0193a000-0000-7000-8000-0000000e%'
UNION ALL
SELECT g.id, g.recipient_organization_id, NULL, 'recipient' FROM grants g WHERE g.id::text LIKE '0193a000-0000-7000-8000-0000000e%';

INSERT INTO recommendations (id, engagement_id, text, addressed_to_agency_id, issued_on, due_on, priority, status, visibility,
                             issuer_organization_id, status_source)
SELECT v.id::uuid, v.engagement_id::uuid, v.text, v.addressed_to_agency_id::uuid, v.issued_on::date, v.due_on::date,
       v.priority, v.status, v.visibility,
       (SELECT e.owner_organization_id FROM engagements e WHERE e.id = v.engagement_id::uuid),
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo' ELSE 'agency' END
FROM (VALUES
 ('0193a000-0000-7000-8000-00000000f011', '0193a000-0000-7000-8000-0000000e4001', 'Обеспечить естественное освещение и вентиляцию в камерах №2 и №3', '0193a000-0000-7000-8000-00000000a004', '2025-10-20', '2026-04-01', 'high', 'implemented', 'public'),
 ('0193a000-0000-7000-8000-00000000f012', '0193a000-0000-7000-8000-0000000e4003', 'Допускать адвоката к задержанному с момента фактического задержания', '0193a000-0000-7000-8000-00000000a013', '2026-04-25', '2026-08-01', 'high', 'in_progress', 'internal')
) AS v (id, engagement_id, text, addressed_to_agency_id, issued_on, due_on, priority, status, visibility)
ON CONFLICT (id) DO NOTHING;

INSERT INTO recommendation_status_history (id, recommendation_id, status, note, changed_at, recorder_role, effective_on, source)
SELECT v.id::uuid, v.recommendation_id::uuid, v.status, v.note, v.changed_at::timestamptz,
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo_member' ELSE 'agency_officer' END,
       (v.changed_at::timestamptz AT TIME ZONE 'Asia/Dushanbe')::date,
       CASE WHEN v.status IN ('issued', 'no_response') THEN 'ngo' ELSE 'agency' END
FROM (VALUES
 ('0193a000-0000-7000-8000-0000000f1101', '0193a000-0000-7000-8000-00000000f011', 'issued', NULL, '2025-10-20 12:00:00+00'),
 ('0193a000-0000-7000-8000-0000000f1102', '0193a000-0000-7000-8000-00000000f011', 'implemented', 'Подтверждено повторным визитом 3 июня 2026 года', '2026-06-03 15:00:00+00'),
 ('0193a000-0000-7000-8000-0000000f1201', '0193a000-0000-7000-8000-00000000f012', 'issued', NULL, '2026-04-25 12:00:00+00'),
 ('0193a000-0000-7000-8000-0000000f1202', '0193a000-0000-7000-8000-00000000f012', 'in_progress', 'УМВД издало указание по отделам', '2026-06-15 09:00:00+00')
) AS v (id, recommendation_id, status, note, changed_at)
ON CONFLICT (id) DO NOTHING;
