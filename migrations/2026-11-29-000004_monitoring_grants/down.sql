DROP TABLE grants, visit_findings, visit_monitors, monitoring_visits, facilities;
