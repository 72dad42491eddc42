//! The man pages of the binaries, rendered from the clap definitions they
//! parse (`afcluster_tools::args`), so that a page never says what the
//! program does not: afcluster(8) with a page per command (afcluster-add(8),
//! ...), afclusterd(8) and afcluster-corosync(8). afclusterd.conf(5) is
//! written by hand (packaging/man/).
//!
//!     cargo run -p afcluster-tools --example mangen -- OUTDIR [YYYY-MM-DD]
//!
//! The date (the page's last change; scripts/package gives the commit's)
//! defaults to none. The text after a program's options (`after_help`:
//! "Signals:", "Exit status:", "Examples:") becomes sections of their own.

use std::error::Error;
use std::fs;
use std::io::Write;
use std::path::Path;

use afcluster_tools::args::{afclusterd, cli, corosync};
use clap::CommandFactory;
use clap_mangen::roff::{bold, italic, roman, Roff};
use clap_mangen::Man;

/// What a page says beyond the command line.
struct Extra {
    /// Paragraphs added to DESCRIPTION.
    description: &'static [&'static str],
    /// FILES: path, what it is.
    files: &'static [(&'static str, &'static str)],
    /// SEE ALSO: page(section).
    see_also: &'static [&'static str],
}

const AFCLUSTER: Extra = Extra {
    description: &[
        "afcluster acts on the node table of the network namespace it runs in, \
         kept by the afcluster kernel module (generic netlink family afcluster). \
         Reading needs no privilege; add, set, del and local need CAP_NET_ADMIN. \
         status and wait ask afclusterd(8) over its control socket.",
        "Each command has a page of its own: afcluster-COMMAND(8).",
    ],
    files: &[(
        "/run/afclusterd.sock",
        "afclusterd's control socket (status, wait; global_defs control_socket)",
    )],
    see_also: &[
        "afclusterd(8)",
        "afclusterd.conf(5)",
        "afcluster-corosync(8)",
    ],
};

const AFCLUSTER_COMMAND: Extra = Extra {
    description: &["afcluster(8) describes the exit status."],
    files: &[],
    see_also: &["afcluster(8)"],
};

const AFCLUSTERD: Extra = Extra {
    description: &[
        "afclusterd keeps an exact in-memory reflection of the kernel's cluster node \
         table (module afcluster) from its events alone, never polling: it subscribes \
         to the events, then dumps the table; events it lost are replayed from the \
         kernel's history, and the table is dumped again when the history no longer \
         reaches back or the module was reloaded. Started before the module is loaded, \
         it waits for it.",
        "Configured in keepalived's language (afclusterd.conf(5)), it runs notify_node \
         scripts on node state changes, drives IPVS from virtual_server and real_server \
         blocks with keepalived's checkers and the event-driven CI-LINUX checker, and \
         runs VRRP instances that can track cluster nodes. Without a configuration file \
         at the default path it runs with the defaults: the reflection and the control \
         socket only. afcluster status shows its state.",
    ],
    files: &[
        (
            "/etc/afclusterd/afclusterd.conf",
            "the configuration (see afclusterd.conf(5)); an example is in \
             /usr/share/doc/afcluster/examples/afclusterd.conf",
        ),
        ("/run/afclusterd.pid", "the pid file, locked while it runs"),
        (
            "/run/afclusterd.sock",
            "the control socket afcluster status and wait read",
        ),
        ("/run/afclusterd.data", "the state dump SIGUSR1 writes"),
    ],
    see_also: &[
        "afclusterd.conf(5)",
        "afcluster(8)",
        "afcluster-corosync(8)",
        "keepalived(8)",
        "keepalived.conf(5)",
        "ipvsadm(8)",
    ],
};

const AFCLUSTER_COROSYNC: Extra = Extra {
    description: &[
        "Run one per machine beside corosync. The entries it writes keep their states \
         through corosync's membership changes; afclusterd(8) and every other listener \
         of the table see each change as a kernel event.",
    ],
    files: &[
        (
            "/etc/default/afcluster-corosync",
            "AFCLUSTER_COROSYNC_OPTS: the options the systemd unit starts it with",
        ),
        ("/run/afcluster-corosync.pid", "the pid file"),
    ],
    see_also: &[
        "afcluster(8)",
        "afclusterd(8)",
        "corosync(8)",
        "corosync.conf(5)",
    ],
};

fn main() -> Result<(), Box<dyn Error>> {
    let mut argv = std::env::args_os().skip(1);
    let out = argv.next().ok_or("usage: mangen OUTDIR [YYYY-MM-DD]")?;
    let date = argv
        .next()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = Path::new(&out);
    fs::create_dir_all(out)?;

    // The help command is clap's, documented by every page's --help.
    let mut afcluster = cli::Cli::command()
        .disable_help_subcommand(true)
        .subcommand_help_heading("COMMANDS");
    afcluster.build();
    for sub in afcluster.get_subcommands() {
        page(out, sub.clone(), &date, &AFCLUSTER_COMMAND)?;
    }
    page(out, afcluster, &date, &AFCLUSTER)?;
    page(out, afclusterd::Args::command(), &date, &AFCLUSTERD)?;
    page(out, corosync::Args::command(), &date, &AFCLUSTER_COROSYNC)?;
    Ok(())
}

/// Write one page, OUTDIR/NAME.8.
fn page(out: &Path, cmd: clap::Command, date: &str, extra: &Extra) -> Result<(), Box<dyn Error>> {
    let source = format!("afcluster {}", env!("CARGO_PKG_VERSION"));
    let man = Man::new(cmd.clone())
        .section("8")
        .date(date)
        .source(source)
        .manual("System Administration");
    let (prose, sections) = after_help(&cmd);

    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    let mut roff = Roff::new();
    for p in prose
        .iter()
        .map(String::as_str)
        .chain(extra.description.iter().copied())
    {
        roff.control("PP", []).text([roman(p)]);
    }
    buf.write_all(roff.render().as_bytes())?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut buf)?;
    }
    let mut roff = Roff::new();
    for (title, lines) in &sections {
        section(&mut roff, title, lines);
    }
    if !extra.files.is_empty() {
        roff.control("SH", ["FILES"]);
        for (path, what) in extra.files {
            roff.control("TP", [])
                .text([italic(*path)])
                .text([roman(*what)]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    let n = extra.see_also.len();
    for (i, s) in extra.see_also.iter().enumerate() {
        let (name, sect) = s.split_once('(').unwrap_or((s, ""));
        let sep = if i + 1 < n { "," } else { "" };
        roff.text([bold(name), roman(format!("({sect}{sep}"))]);
    }
    buf.write_all(roff.render().as_bytes())?;

    let text = dedup_preamble(&String::from_utf8(buf)?);
    let path = out.join(man.get_filename());
    fs::write(&path, text)?;
    println!("{}", path.display());
    Ok(())
}

/// The after_help text: its leading paragraphs, and its "Heading:" blocks
/// (the heading, then its indented lines).
fn after_help(cmd: &clap::Command) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let Some(text) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) else {
        return (Vec::new(), Vec::new());
    };
    let mut prose = Vec::new();
    let mut para = String::new();
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.to_string().lines() {
        if is_heading(line) {
            sections.push((line.trim_end_matches(':').to_uppercase(), Vec::new()));
        } else if let Some((_, lines)) = sections.last_mut() {
            if !line.trim().is_empty() {
                lines.push(line.to_string());
            }
        } else if line.trim().is_empty() {
            if !para.is_empty() {
                prose.push(std::mem::take(&mut para));
            }
        } else {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line.trim());
        }
    }
    if !para.is_empty() {
        prose.push(para);
    }
    (prose, sections)
}

/// "Exit status:": a short capitalised line of its own, ending in a colon.
fn is_heading(line: &str) -> bool {
    line.ends_with(':')
        && line.starts_with(|c: char| c.is_ascii_uppercase())
        && line.split_whitespace().count() <= 3
}

/// A section from after_help: EXAMPLES as they are written, any other as a
/// list of `TAG  text` entries (continuation lines indented deeper).
fn section(roff: &mut Roff, title: &str, lines: &[String]) {
    roff.control("SH", [title]);
    if title == "EXAMPLES" {
        roff.control("PP", [])
            .control("nf", [])
            .control("RS", ["4"]);
        for line in lines {
            roff.text([roman(line.trim())]);
        }
        roff.control("RE", []).control("fi", []);
        return;
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in lines {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        match (indent <= 2, body.split_once("  "), entries.last_mut()) {
            (true, Some((tag, text)), _) => {
                entries.push((tag.to_string(), text.trim().to_string()))
            }
            (_, _, Some((_, text))) => {
                text.push(' ');
                text.push_str(body);
            }
            _ => entries.push((body.to_string(), String::new())),
        }
    }
    for (tag, text) in entries {
        roff.control("TP", []).text([bold(tag)]).text([roman(text)]);
    }
}

/// Each render_* call starts with roff's apostrophe preamble: keep the first.
fn dedup_preamble(text: &str) -> String {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    match text.split_once(PREAMBLE) {
        Some((head, rest)) => format!("{head}{PREAMBLE}{}", rest.replace(PREAMBLE, "")),
        None => text.to_string(),
    }
}
