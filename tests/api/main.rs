//! Integration tests: the real app, in-process, against a real Postgres database per test.

mod agencies;
mod auth;
mod conventions;
mod openapi;
mod operations;
mod organizations;
mod pagination;
mod support;
mod users;
