export const SKIFF_VERSION = "0.1.0";
