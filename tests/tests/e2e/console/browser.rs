//! Headless Chromium driven over WebDriver (`fantoccini`), through
//! Debian's `chromedriver` on a free loopback port. Both come from the
//! `chromium` and `chromium-driver` packages: `scripts/install-browser`
//! installs them, and `.ci/run` runs it. Missing, the test fails and says
//! how to install them; it never skips, so CI cannot pass without a browser.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const INSTALL: &str = "`scripts/install-browser` could not install them (it runs `apt-get install -y chromium chromium-driver`, as root or with sudo): run it as root, or set CHROME and CHROMEDRIVER to their paths";

/// The first of the environment variable's path and `candidates` that exists.
fn binary(variable: &str, candidates: &[&str]) -> Option<PathBuf> {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .into_iter()
        .chain(candidates.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver; when missing, the project's own
/// `scripts/install-browser` installs them once (apt-get, as root), so the
/// README's test command needs nothing installed by hand.
fn installed() -> (Option<PathBuf>, Option<PathBuf>) {
    let find = || {
        let chromium = binary(
            "CHROME",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        (chromium, binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]))
    };
    static INSTALL_ONCE: std::sync::Once = std::sync::Once::new();
    if let (Some(_), Some(_)) = find() {
        return find();
    }
    INSTALL_ONCE.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-browser");
        let status = Command::new("bash").arg(&script).status();
        eprintln!("{}: {status:?}", script.display());
    });
    find()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A browser and the chromedriver that drives it; both end when dropped
/// (the browser with `close`).
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
}

impl Drop for Browser {
    /// Ends chromedriver and the browser it started, even when a test
    /// failed before `close`: they share a process group of their own.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where the screenshots go: `target/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}

impl Browser {
    /// Headless Chromium at `width` x `height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        let (Some(chromium), Some(chromedriver)) = installed() else {
            panic!(
                "the console's browser tests need Chromium and chromedriver, which are not installed: {INSTALL}"
            );
        };
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{} does not start ({e}): {INSTALL}", chromedriver.display())
            });
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // Root (as in CI) needs --no-sandbox; a container's /dev/shm is small.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    // The date field reads keys in the locale's order (mm/dd/yyyy).
                    "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() > Duration::from_secs(20) => {
                    panic!(
                        "chromedriver on port {port} gave no browser within 20 s ({e}): {INSTALL}"
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            driver,
            _profile: profile,
            shots,
        }
    }

    /// The whole page, into `target/console-screenshots/NAME.png`: the
    /// window is made as tall as the page for the shot (WebDriver's
    /// screenshot is of the viewport), then put back.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let (width, height) = self.client.get_window_size().await.unwrap();
        let sizes = self
            .client
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight]",
                Vec::new(),
            )
            .await
            .ok()
            .and_then(|v| Some((v[0].as_u64()?, v[1].as_u64()?)));
        if let Some((page, viewport)) = sizes.filter(|(page, viewport)| page > viewport) {
            let frame = height.saturating_sub(viewport);
            let tall = (page + frame).min(8000) as u32;
            self.client
                .set_window_size(width as u32, tall)
                .await
                .unwrap();
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        self.client
            .set_window_size(width as u32, height as u32)
            .await
            .unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap(),
            Err(e) => {
                self.screenshot("failure").await;
                let body = self.text_of_page().await;
                panic!(
                    "no {css} on {}: {e}\nthe page says:\n{body}",
                    self.url().await
                )
            }
        }
    }

    async fn text_of_page(&self) -> String {
        match self.client.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => self.client.source().await.unwrap_or_default(),
        }
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css} cannot be clicked: {e}"));
    }

    /// Clicks a button that submits a form, and waits until the next page
    /// has replaced this one (WebDriver's click may return before it has).
    pub async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        let started = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "clicking {css} loaded no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
    }

    /// Ticks or unticks a checkbox.
    pub async fn set_checked(&self, css: &str, checked: bool) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        if element.is_selected().await.unwrap() != checked {
            element.click().await.unwrap();
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap();
        element.select_by_value(value).await.unwrap();
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Waits (at most 60 s) for the element `css` to have `attribute` = `value`,
    /// through the reloads of a page that refreshes itself.
    pub async fn wait_for_attr(&self, css: &str, attribute: &str, value: &str) {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && element.attr(attribute).await.ok().flatten().as_deref() == Some(value)
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{css} never had {attribute}={value:?} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Ends the session (the browser quits), then chromedriver (on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
