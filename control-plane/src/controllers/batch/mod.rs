//! Pure reconcile logic of the Job and CronJob controllers (each module
//! states its guarantees), and the cron schedule parser they use.

pub mod cron;
pub mod cronjob;
pub mod job;
pub mod job_conditions;
pub mod job_index;
pub mod job_pods;
pub mod job_template;
#[cfg(test)]
mod testsim;
