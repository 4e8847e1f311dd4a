/** See preact-aliases.mjs. */
export declare const preactAliases: Record<string, string>;
