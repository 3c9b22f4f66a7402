/** Hosts the guard refused so far in this process (loopback-only.js). */
export declare const refused: string[];
