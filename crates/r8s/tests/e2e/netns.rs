//! Network namespaces of the tests' own: every test that runs a node (bridges, veths, routes,
//! nftables) runs it inside one, with loopback and one interface for the node's address and
//! no default route, so nothing it programs can reach the machine's real network.

use std::process::Command;

/// The node's InternalIP inside the namespace.
pub const NODE_IP: &str = "192.168.77.2";
/// The address of a second machine made by [`TestNetns::second_machine`].
pub const AGENT_IP: &str = "192.168.77.3";

pub struct TestNetns {
    pub name: String,
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {args:?} failed");
}

impl TestNetns {
    /// A namespace with loopback only.
    pub fn bare() -> Self {
        let name = format!("r8s-e2e-{}-{}", std::process::id(), rand_suffix());
        ip(&["netns", "add", &name]);
        let netns = TestNetns { name };
        netns.ip(&["link", "set", "lo", "up"]);
        netns
    }

    /// A machine of its own: loopback and the node's address [`NODE_IP`] on `node0`.
    pub fn create() -> Self {
        let netns = Self::bare();
        // A veth pair whose both ends stay inside (this kernel has no dummy interfaces).
        netns.ip(&[
            "link",
            "add",
            "node0",
            "type",
            "veth",
            "peer",
            "name",
            "node0-peer",
        ]);
        netns.ip(&["addr", "add", &format!("{NODE_IP}/24"), "dev", "node0"]);
        netns.ip(&["link", "set", "node0", "up"]);
        netns.ip(&["link", "set", "node0-peer", "up"]);
        netns
    }

    /// A second machine on the node's network: a new namespace that gets `node0-peer`, the other
    /// end of this one's veth pair, with `ip` on the same /24 (e.g. [`AGENT_IP`]). This namespace
    /// keeps working as before; the pair goes away with whichever namespace is deleted first.
    pub fn second_machine(&self, ip: &str) -> TestNetns {
        let name = format!("{}-m2", self.name);
        self::ip(&["netns", "add", &name]);
        let machine = TestNetns { name };
        machine.ip(&["link", "set", "lo", "up"]);
        self.ip(&["link", "set", "node0-peer", "netns", &machine.name]);
        machine.ip(&["addr", "add", &format!("{ip}/24"), "dev", "node0-peer"]);
        machine.ip(&["link", "set", "node0-peer", "up"]);
        machine
    }

    /// A switch: a namespace holding the bridge `br0` that [`TestNetns::plug_into`] connects
    /// machines to.
    pub fn switch() -> Self {
        let switch = Self::bare();
        switch.ip(&["link", "add", "br0", "type", "bridge"]);
        switch.ip(&["link", "set", "br0", "up"]);
        switch
    }

    /// Connects this machine to `switch` through a veth pair: `eth0` here with `ip`/24, port
    /// `port` on the switch's bridge.
    pub fn plug_into(&self, switch: &TestNetns, port: &str, ip: &str) {
        switch.ip(&[
            "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", &self.name,
        ]);
        switch.ip(&["link", "set", port, "master", "br0"]);
        switch.ip(&["link", "set", port, "up"]);
        self.ip(&["addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        self.ip(&["link", "set", "eth0", "up"]);
    }

    /// `ip <args>` inside the namespace.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// A command that runs inside the namespace. `nsenter` switches the network namespace only
    /// (`ip netns exec` would also remount /sys and hide the cgroup hierarchies from runc).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/run/netns/{}", self.name))
            .arg("--")
            .arg(program);
        command
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}{count}")
}
