/**
 * @module
 * `@switchyard/proxy/diagnostics`: what the coordinator, the proxy and the signer share to look
 * at themselves — the profile endpoints (`switchyard profile`) and the per-route latency
 * histograms of their `/metrics`. It lives in the proxy, the package the other two already
 * may depend on (it depends on nothing of ours but the protocol), and imports nothing else of it.
 */
export { checkAdminToken, cpuProfileSeconds, profileFileName, reserveProfile } from './profile-response.ts';
export { ProfilerBusyError } from './profiler.ts';
export { RouteLatency, type RouteObservation, statusClass } from './route-latency.ts';
