// What every page of the console shares: the API client, the cached vocabulary and
// dataset list, and navigation.

import type { Api, Dataset, LanguageInfo } from './api';

export interface App {
  api: Api;
  navigate(hash: string): void;
  language(): Promise<LanguageInfo>;
  datasets(refresh?: boolean): Promise<Dataset[]>;
}

// A page is an element plus what to do when the user leaves it.
export interface Page {
  el: HTMLElement;
  dispose?: () => void;
}
