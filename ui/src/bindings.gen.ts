// Generated from the Rust types in crates/loopline-core by `scripts/gen-bindings`.
// Do not edit by hand: a test fails when this file drifts from the Rust source.

export type ErrorCode = "db_newer_schema" | "db_corrupt" | "db_locked" | "db_open_failed" | "db_migration_failed" | "db_error" | "data_dir_unavailable" | "port_in_use" | "listen_not_loopback" | "listen_invalid" | "engine_unavailable" | "invalid_argument" | "not_found" | "internal";

export type ApiError = { code: ErrorCode, message: string, };

export type ReceiverState = "stopped" | "starting" | "running" | "failed";

export type ReceiverStatus = { state: ReceiverState, 
/**
 * The address asked for, or bound once running (e.g. `127.0.0.1:8787`).
 */
listen: string, 
/**
 * Why the receiver is not running, when `state` is `failed`.
 */
error: ApiError | null, 
/**
 * A free address to offer the user when the asked-for port was taken.
 */
suggested_listen: string | null, };

export type Health = { version: string, 
/**
 * `ok` when the store answers a query, else `unavailable`.
 */
db: string, };

export type AppInfo = { version: string, data_dir: string, db_path: string, schema_version: number, db_size_bytes: number, };
