// Public surface of config/: reading linkerd config files, and the parts of them built so far.
export { ConfigFileError, parseConfigText, placeError, readConfigFile } from './config-file.ts';
export type { ConfigFile } from './config-file.ts';
export { routerNaming } from './naming.ts';
export type { NamingOptions, RouterNaming } from './naming.ts';
