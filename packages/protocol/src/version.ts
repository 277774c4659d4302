/** The version every Switchyard process reports; kept equal to the root package.json's. */
export const SWITCHYARD_VERSION = '0.1.0';
