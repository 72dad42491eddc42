//! The command lines of the binaries, one module each, as clap definitions:
//! each binary parses its own, and `tools/examples/mangen.rs` renders them
//! as man pages (`CommandFactory::command()`).

pub mod afclusterd;
pub mod cli;
pub mod corosync;

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of a definition (conflicting names, bad
    /// defaults...), which would otherwise fail only when parsing.
    #[test]
    fn definitions_are_consistent() {
        super::cli::Cli::command().debug_assert();
        super::afclusterd::Args::command().debug_assert();
        super::corosync::Args::command().debug_assert();
    }
}
