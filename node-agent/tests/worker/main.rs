//! Behaviour tests of the pod worker against the hollow runtime.

mod common;
mod t10_running;
mod t20_init;
mod t30_restarts;
mod t40_delete;
mod t50_adopt;
mod t60_env_volumes;
mod t70_image;
mod t80_probes;
mod t90_scale;
