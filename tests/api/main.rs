//! Integration tests: the real app, in-process, against a real Postgres database per test.

mod access_matrix;
mod agencies;
mod auth;
mod consultations;
mod conventions;
mod councils;
mod demo;
mod engagements;
mod generate;
mod grants;
mod harness;
mod hearings;
mod layers;
mod meetings;
mod monitoring;
mod openapi;
mod operations;
mod organizations;
mod pagination;
mod provenance;
mod recommendations;
mod retries;
mod statements;
mod support;
mod trust;
mod users;
