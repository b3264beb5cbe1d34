//! The log/exec tunnel end to end: real gRPC tunnel, real REST server,
//! the agent's real loop, host processes, and the real kubectl.

mod harness;
mod t10_logs;
mod t20_exec;
mod t25_websocket;
mod t30_errors;
