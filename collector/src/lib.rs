//! The collector: the origin the player and its tests fetch video from, and (as the
//! analytics land) the server that ingests and aggregates QoE beacons.
//!
//! - [`encode`] turns a source (a file or a generated test pattern) into a CMAF HLS
//!   ladder with ffmpeg and checks it (quality control).
//! - [`origin`] serves ladders over HTTP like a CDN edge (`/media`), and the same bytes
//!   through a shaped network (`/shaped`), with injected faults (`/faults`) or as a
//!   simulated live stream (`/live`).
//! - [`demo`] serves the demo pages and the player package under `/demo/`.
//! - [`ingest`] takes QoE beacons (`POST /v1/beacons`) and [`store`] keeps them (SQLite
//!   or PostgreSQL) with per-minute rollups; [`metrics`] exports `/metrics`.
//! - [`api`] answers analysts' queries (`/api/v1/…`: KPIs, time series, breakdowns,
//!   per-view timelines, CSV, OpenAPI) and [`dashboard`] serves their dashboard.
//! - [`server`] binds, serves and shuts down gracefully.
//!
//! It is not a transcoding service: encoding is an offline command, never on request.

pub mod api;
pub mod dashboard;
pub mod demo;
pub mod encode;
pub mod ingest;
pub mod metrics;
pub mod origin;
pub mod server;
pub mod store;
