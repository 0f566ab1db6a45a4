// Public surface of config/: reading linkerd config files, and the parts of them built so far.
export { ConfigFileError, parseConfigText, placeError, readConfigFile } from './config-file.ts';
export type { ConfigFile } from './config-file.ts';
export { routerNaming } from './naming.ts';
export type { NamingOptions, RouterNaming } from './naming.ts';
export { labelOf, routerInterpreter, sharedNaming } from './naming.ts';
export type { SharedNaming } from './naming.ts';
export { DEFAULT_ADMIN_SECURITY, loadLinkerdConfig } from './linkerd-config.ts';
export type { AdminSecurityConfig, LinkerdConfig, RouterConfig, ServerConfig } from './linkerd-config.ts';
export { DEFAULT_PROMETHEUS_PATH, readTelemetry } from './telemetry-config.ts';
export type { TelemetryConfig } from './telemetry-config.ts';
export { DEFAULT_CLIENT, readBackoff, readBudget, readClient } from './client-config.ts';
export type { ClientConfig } from './client-config.ts';
export { DEFAULT_SERVICE, readService } from './service-config.ts';
export type { ServiceConfig } from './service-config.ts';
export { readParamsByName } from './prefix-configs.ts';
export type { ParamsByName } from './prefix-configs.ts';
