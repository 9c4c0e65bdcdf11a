#!/usr/bin/env node
// Starts N virtual AGVs of the open-source vda-5050-lib (its AgvController with its
// VirtualAgvAdapter) against an MQTT broker, and prints one JSON line per notable event on stdout.
//
// Why: bulletyard's interoperability tests drive a VDA 5050 vehicle that bulletyard did not
// write. This script is ours, but it only uses the library's public API: the AgvController
// class, its documented extension point onStateChanged, AgvClient.subscribe and
// registerConnectionStateChange. Vehicle behaviour (order validation, actions, driving) is the
// library's own and is not changed here.
//
// Usage (every length in metres, angles in radians):
//   node virtual_agvs.js --host 127.0.0.1 --port 1883 --manufacturer vda5050lib \
//     --vehicle agv-1,2.5,-1.5,0,small-fc --vehicle agv-2,3.5,-1.5,0,small-fc
// Options: --vda-version 2.0.0 (the library speaks 1.1.0 or 2.0.0), --interface uagv,
//   --speed 2 (m/s), --time-lapse 1, --state-interval-ms 30000 (the library's default),
//   --factsheet FILE (publish this factsheet instead of the library's empty one).
// Events: {"event": "ready"|"connection"|"order"|"instantActions"|"orderAccepted"|"error"|
//   "errorCleared"|"action"|"orderDone"|"stopped"|"fatal", "serial": ..., "t": ISO time, ...}.
// SIGTERM or SIGINT stops every vehicle cleanly (OFFLINE connection message) and exits 0.
"use strict";

const fs = require("fs");
const { AgvController, Topic, VirtualAgvAdapter } = require("vda-5050-lib");

const USAGE = "usage: virtual_agvs.js --host H --port P --manufacturer M " +
    "--vehicle SERIAL,X,Y,THETA,MAPID [--vehicle ...] [--vda-version 2.0.0] [--interface uagv] " +
    "[--speed M_PER_S] [--time-lapse F] [--state-interval-ms MS] [--factsheet FILE]";

function emit(event, serial, fields) {
    process.stdout.write(JSON.stringify({ event, serial, t: new Date().toISOString(), ...fields }) + "\n");
}

function fail(message) {
    process.stderr.write(`virtual_agvs: ${message}\n${USAGE}\n`);
    process.exit(2);
}

function number(text, what) {
    const value = Number(text);
    if (text === undefined || text === "" || !Number.isFinite(value)) {
        fail(`${what} must be a number, found ${JSON.stringify(text)}`);
    }
    return value;
}

function parseArgs(argv) {
    const opts = {
        host: undefined, port: undefined, manufacturer: undefined, vehicles: [], vdaVersion: "2.0.0",
        interfaceName: "uagv", speed: 2, timeLapse: 1, stateIntervalMs: 30000, factsheet: undefined,
    };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i];
        const value = argv[i + 1];
        if (value === undefined) {
            fail(`${key} needs a value`);
        }
        switch (key) {
            case "--host": opts.host = value; break;
            case "--port": opts.port = number(value, "--port"); break;
            case "--manufacturer": opts.manufacturer = value; break;
            case "--vda-version": opts.vdaVersion = value; break;
            case "--interface": opts.interfaceName = value; break;
            case "--speed": opts.speed = number(value, "--speed"); break;
            case "--time-lapse": opts.timeLapse = number(value, "--time-lapse"); break;
            case "--state-interval-ms": opts.stateIntervalMs = number(value, "--state-interval-ms"); break;
            case "--factsheet": opts.factsheet = value; break;
            case "--vehicle": {
                const parts = value.split(",");
                if (parts.length !== 5) {
                    fail(`--vehicle ${value}: expected SERIAL,X,Y,THETA,MAPID`);
                }
                opts.vehicles.push({
                    serial: parts[0], x: number(parts[1], `--vehicle ${value} x`),
                    y: number(parts[2], `--vehicle ${value} y`), theta: number(parts[3], `--vehicle ${value} theta`),
                    mapId: parts[4],
                });
                break;
            }
            default: fail(`unknown option ${key}`);
        }
    }
    if (!opts.host || opts.port === undefined || !opts.manufacturer || opts.vehicles.length === 0) {
        fail("--host, --port, --manufacturer and at least one --vehicle are required");
    }
    return opts;
}

/** An AgvController that reports what it does as JSON lines, through the documented hook only. */
class ReportingAgvController extends AgvController {
    constructor(agvId, clientOptions, controllerOptions, adapterOptions, factsheet) {
        super(agvId, clientOptions, controllerOptions, adapterOptions);
        this._reported = { errors: [], actions: new Map(), orderId: "" };
        this._factsheet = factsheet;
    }

    async onStarted() {
        await super.onStarted();  // attaches the adapter, which sets the library's own (empty) factsheet
        if (this._factsheet !== undefined) {
            this.updateFactsheet(this._factsheet);
        }
    }

    onStateChanged(changes) {
        const serial = this.agvId.serialNumber;
        const state = this.currentState;
        if (changes.errors !== undefined) {
            const before = this._reported.errors.map(e => JSON.stringify(e));
            const now = state.errors.map(e => JSON.stringify(e));
            state.errors.forEach((e, i) => {
                if (!before.includes(now[i])) {
                    emit("error", serial, { error: e, orderId: state.orderId });
                }
            });
            this._reported.errors.forEach((e, i) => {
                if (!now.includes(before[i])) {
                    emit("errorCleared", serial, { error: e });
                }
            });
            this._reported.errors = state.errors;
        }
        if (changes.orderId !== undefined && changes.orderId !== this._reported.orderId) {
            this._reported.orderId = changes.orderId;
            emit("orderAccepted", serial, { orderId: state.orderId, orderUpdateId: state.orderUpdateId });
        }
        if (changes.actionStates !== undefined) {
            for (const a of state.actionStates) {
                if (this._reported.actions.get(a.actionId) !== a.actionStatus) {
                    this._reported.actions.set(a.actionId, a.actionStatus);
                    if (a.actionStatus === "FINISHED" || a.actionStatus === "FAILED") {
                        emit("action", serial, { actionState: a, orderId: state.orderId });
                    }
                }
            }
        }
        if ((changes.nodeStates !== undefined || changes.actionStates !== undefined) && state.orderId !== "" &&
            !this.hasActiveOrder && this._reported.doneOrder !== `${state.orderId}/${state.orderUpdateId}`) {
            this._reported.doneOrder = `${state.orderId}/${state.orderUpdateId}`;
            emit("orderDone", serial, { orderId: state.orderId, orderUpdateId: state.orderUpdateId,
                lastNodeId: state.lastNodeId, position: state.agvPosition });
        }
    }
}

async function startVehicle(opts, v, factsheet) {
    const agvId = { manufacturer: opts.manufacturer, serialNumber: v.serial };
    const clientOptions = {
        interfaceName: opts.interfaceName,
        transport: { brokerUrl: `mqtt://${opts.host}:${opts.port}` },
        vdaVersion: opts.vdaVersion,
    };
    const controllerOptions = { agvAdapterType: VirtualAgvAdapter, publishStateInterval: opts.stateIntervalMs };
    const adapterOptions = {
        initialPosition: { mapId: v.mapId, x: v.x, y: v.y, theta: v.theta, lastNodeId: "0" },
        vehicleSpeed: opts.speed,
        timeLapse: opts.timeLapse,
    };
    const controller = new ReportingAgvController(agvId, clientOptions, controllerOptions, adapterOptions, factsheet);
    if (factsheet !== undefined) {
        // The library validates what it publishes and throws on a bad factsheet: say so up front.
        const header = { headerId: 0, timestamp: new Date().toISOString(), version: opts.vdaVersion, ...agvId };
        try {
            controller.validateTopicObject(Topic.Factsheet, { ...header, ...factsheet }, opts.vdaVersion);
        } catch (err) {
            fail(`--factsheet ${opts.factsheet}: not a VDA 5050 ${opts.vdaVersion} factsheet: ${err.message}`);
        }
    }
    controller.registerConnectionStateChange((now, before) => emit("connection", v.serial, { state: now, before }));
    await controller.start();
    // A second handler on the vehicle's own inbound topics: it sees every message as received,
    // before the controller validates it, so a rejected message can be shown next to its error.
    await controller.subscribe(Topic.Order, order => emit("order", v.serial, { order }));
    await controller.subscribe(Topic.InstantActions, actions => emit("instantActions", v.serial, { instantActions: actions }));
    return controller;
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    let factsheet;
    if (opts.factsheet !== undefined) {
        try {
            factsheet = JSON.parse(fs.readFileSync(opts.factsheet, "utf8"));
        } catch (err) {
            fail(`--factsheet ${opts.factsheet}: ${err.message}`);
        }
    }
    const controllers = [];
    let stopping = false;
    const stopAll = async signal => {
        if (stopping) {
            return;
        }
        stopping = true;
        await Promise.allSettled(controllers.map(c => c.stop()));
        emit("stopped", undefined, { signal });
        process.exit(0);
    };
    process.on("SIGTERM", () => stopAll("SIGTERM"));
    process.on("SIGINT", () => stopAll("SIGINT"));
    for (const v of opts.vehicles) {
        controllers.push(await startVehicle(opts, v, factsheet));
    }
    emit("ready", undefined, {
        manufacturer: opts.manufacturer, vdaVersion: opts.vdaVersion, serials: opts.vehicles.map(v => v.serial),
    });
}

main().catch(err => {
    emit("fatal", undefined, { message: String(err && err.stack || err) });
    process.exit(1);
});
