// A stand-in for mongosh and a replica set, for running Wharf's generated
// bootstrap.js under Node.js where MongoDB cannot be installed. It models what
// the script relies on, as MongoDB documents it: replSetInitiate refuses
// members that are down or hold data; replSetReconfig must come from the
// primary, with the next version, one voting member added or removed at a
// time, and no primary removing itself; a primary steps down by closing its
// connections; mongosh's runCommand throws on an error reply; a replica-set
// connection talks to the primary. It cannot prove MongoDB behaves so.
//
// Input: WHARF_SCRIPT (the script's path) and WHARF_STATE (JSON: nodes by
// host with `upAt` (the time it answers from, in ms of the script's clock,
// which only its sleeps move) and `data`,
// `config`, `users`, `primary`, `reconfigFailures`). Output: one line
// `RESULT <json>` with the exit code, the final state (in the same shape),
// the writes made (`ops`) and what the script printed.

"use strict";
const fs = require("fs");
const vm = require("vm");

const state = JSON.parse(process.env.WHARF_STATE);
state.reconfigFailures = state.reconfigFailures || 0;
const ops = [];
const printed = [];
let now = 0;

function fail(code, message) {
  const e = new Error(message);
  e.code = code;
  throw e;
}

function isUp(host) {
  const node = state.nodes[host];
  return node !== undefined && now >= node.upAt;
}

function hosts(config) {
  return config.members.map((m) => m.host);
}

function elect(excluding) {
  const candidates = state.config.members
    .filter((m) => isUp(m.host) && m.host !== excluding)
    .sort((a, b) => b.priority - a.priority || a._id - b._id);
  state.primary = candidates.length > 0 ? candidates[0].host : null;
}

class Db {
  constructor(target) {
    this.target = target;
    this.user = null;
  }

  auth(user, pwd) {
    const found = state.users[user];
    if (!found || found.pwd !== pwd) {
      fail(18, "Authentication failed.");
    }
    this.user = user;
    return { ok: 1 };
  }

  runCommand(command) {
    const name = Object.keys(command)[0];
    const me = this.target();
    if (name === "hello") {
      return { ok: 1, isWritablePrimary: me === state.primary, primary: state.primary || undefined, me };
    }
    if (this.user !== "root") {
      fail(13, "command " + name + " requires authentication");
    }
    const primaryOnly = () => {
      if (me !== state.primary) {
        fail(10107, "not primary");
      }
    };
    switch (name) {
      case "replSetGetStatus":
        if (state.config === null) {
          fail(94, "no replset config has been received");
        }
        return { ok: 1, set: state.config._id };
      case "replSetInitiate": {
        const config = command.replSetInitiate;
        if (state.config !== null) {
          fail(23, "already initialized");
        }
        if (!hosts(config).includes(me)) {
          fail(93, "no member of the configuration is this node");
        }
        for (const host of hosts(config)) {
          if (!isUp(host)) {
            fail(74, "replSetInitiate quorum check failed: " + host + " is down");
          }
          if (host !== me && state.nodes[host].data) {
            fail(74, host + " has data already, cannot initiate set");
          }
        }
        state.config = JSON.parse(JSON.stringify(config));
        state.config.version = 1;
        for (const host of hosts(config)) {
          state.nodes[host].data = true;
        }
        ops.push({ op: "initiate", members: config.members });
        elect(null);
        return { ok: 1 };
      }
      case "replSetGetConfig":
        if (state.config === null) {
          fail(94, "no replset config has been received");
        }
        return { ok: 1, config: Object.assign(JSON.parse(JSON.stringify(state.config)), { term: 7 }) };
      case "replSetReconfig": {
        primaryOnly();
        const config = JSON.parse(JSON.stringify(command.replSetReconfig));
        if (state.reconfigFailures > 0) {
          state.reconfigFailures -= 1;
          fail(308, "the current config is not yet committed");
        }
        if (config.version !== state.config.version + 1) {
          fail(103, "version " + config.version + " is not " + (state.config.version + 1));
        }
        if (config.members.some((m) => "newlyAdded" in m)) {
          fail(103, "newlyAdded is internal");
        }
        const before = hosts(state.config);
        const after = hosts(config);
        const changed = before.filter((h) => !after.includes(h)).length + after.filter((h) => !before.includes(h)).length;
        if (changed > 1) {
          fail(103, "only one voting member can be added or removed at a time");
        }
        if (!after.includes(me)) {
          fail(103, "a primary cannot remove itself");
        }
        for (const host of after.filter((h) => !before.includes(h))) {
          if (!isUp(host)) {
            fail(74, host + " is down");
          }
          state.nodes[host].data = true;
        }
        delete config.term;
        state.config = config;
        ops.push({ op: "reconfig", version: config.version, members: after });
        return { ok: 1 };
      }
      case "replSetStepDown":
        primaryOnly();
        elect(me);
        ops.push({ op: "stepDown", from: me, to: state.primary });
        // A primary that steps down closes its connections.
        fail(undefined, "connection closed");
        return undefined;
      case "usersInfo": {
        const found = state.users[command.usersInfo];
        return { ok: 1, users: found ? [{ user: command.usersInfo, roles: found.roles }] : [] };
      }
      case "createUser":
        primaryOnly();
        if (state.users[command.createUser]) {
          fail(51003, "user exists");
        }
        state.users[command.createUser] = { pwd: command.pwd, roles: command.roles };
        ops.push({ op: "createUser", user: command.createUser, writeConcern: command.writeConcern });
        return { ok: 1 };
      default:
        fail(59, "no such command: " + name);
    }
  }
}

class Mongo {
  constructor(uri) {
    const match = /^mongodb:\/\/([^/]+)\/\?(.*)$/.exec(uri);
    if (!match) {
      fail(undefined, "bad URI " + uri);
    }
    const seeds = match[1].split(",");
    const options = new URLSearchParams(match[2]);
    if (options.get("directConnection") === "true") {
      if (!isUp(seeds[0])) {
        fail(undefined, "connect ECONNREFUSED " + seeds[0]);
      }
      this.target = () => seeds[0];
    } else {
      const set = options.get("replicaSet");
      if (state.config === null || state.config._id !== set) {
        fail(undefined, "Server selection timed out: no replica set " + set);
      }
      // A replica-set connection follows the primary.
      this.target = () => {
        if (!state.primary) {
          fail(undefined, "Server selection timed out: no primary");
        }
        return state.primary;
      };
    }
  }

  getDB(name) {
    if (name !== "admin") {
      fail(undefined, "the script logs in to admin only, not " + name);
    }
    return new Db(this.target);
  }
}

class Quit {
  constructor(code) {
    this.code = code;
  }
}

globalThis.Mongo = Mongo;
globalThis.print = (...args) => printed.push(args.join(" "));
globalThis.sleep = (ms) => {
  now += ms;
};
globalThis.quit = (code) => {
  throw new Quit(code || 0);
};
Date.now = () => now;
if (state.config !== null && state.primary === undefined) {
  elect(null);
}

let exit = 0;
try {
  vm.runInThisContext(fs.readFileSync(process.env.WHARF_SCRIPT, "utf8"), {
    filename: "bootstrap.js",
  });
} catch (e) {
  if (e instanceof Quit) {
    exit = e.code;
  } else {
    printed.push("uncaught: " + (e.stack || e));
    exit = 2;
  }
}
for (const node of Object.values(state.nodes)) {
  node.upAt = 0;
}
console.log("RESULT " + JSON.stringify({ exit, state, ops, printed }));
