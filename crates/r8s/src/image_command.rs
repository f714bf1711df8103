//! `r8s image`: the node's image store from the command line.

use anyhow::Context;

use crate::cli::ImageCommand;

pub async fn run(command: ImageCommand) -> anyhow::Result<()> {
    match command {
        ImageCommand::Import { file, data_dir } => {
            let self_exe = std::env::current_exe().context("locating the r8s binary")?;
            let options = runtime::RuntimeOptions::for_data_dir(&data_dir, self_exe);
            let paths = runtime::RuntimePaths::new(options.root.clone());
            let store = runtime::images::ImageStore::open(&paths, &options).await?;
            let references = store
                .import_archive(&file)
                .await
                .with_context(|| format!("importing {}", file.display()))?;
            for reference in references {
                println!("imported {reference}");
            }
            Ok(())
        }
        ImageCommand::BuildBusybox {
            out,
            busybox,
            reference,
            cmd,
        } => {
            runtime::images::busybox_image::write_busybox_archive_with_cmd(
                &busybox, &out, &reference, &cmd,
            )
            .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({reference})", out.display());
            Ok(())
        }
    }
}
