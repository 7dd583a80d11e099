import type {Extension} from '../types.js';

/**
 * `name` is the product with what the text said after it (kept as it always was: the JSON
 * field `software`); `version` is the version alone, where the text discloses one.
 */
export type Software = {name: string; version?: string; disclosed: boolean};

type Pattern = {test: RegExp; name: string; disclosed: boolean};

/**
 * What the greeting and EHLO say of the MTA. `disclosed` means the text names the product
 * itself (a configuration choice); a provider recognised by its host names is not disclosure.
 */
const patterns: Pattern[] = [
	{test: /\bPostfix\b/i, name: 'Postfix', disclosed: true},
	// chasquid greets with "220 <host> ESMTP chasquid" and names no version.
	{test: /\bchasquid\b/i, name: 'chasquid', disclosed: true},
	{test: /\bExim\b(?:\s+(\d[\w.]*))?/i, name: 'Exim', disclosed: true},
	{test: /\bSendmail\b(?:\s+(\d[\w./]*))?/i, name: 'Sendmail', disclosed: true},
	{test: /Microsoft ESMTP MAIL Service(?:, Version:\s*([\d.]+))?/i, name: 'Microsoft Exchange', disclosed: true},
	{test: /\b(?:outlook\.com|protection\.outlook\.com|mail\.protection)\b/i, name: 'Microsoft Outlook.com', disclosed: false},
	{test: /\bmx\.google\.com\b|\bgsmtp\b/i, name: 'Google', disclosed: false},
	{test: /\bOpenSMTPD\b/i, name: 'OpenSMTPD', disclosed: true},
	{test: /\bHaraka\b(?:\s*\/?\s*(\d[\w.]*))?/i, name: 'Haraka', disclosed: true},
	{test: /\bqmail\b/i, name: 'qmail', disclosed: true},
	{test: /\bMailEnable\b/i, name: 'MailEnable', disclosed: true},
	{test: /\bhMailServer\b/i, name: 'hMailServer', disclosed: true},
	{test: /\bZimbra\b/i, name: 'Zimbra', disclosed: true},
	{test: /\bKerio Connect\b(?:\s+(\d[\w.]*))?/i, name: 'Kerio Connect', disclosed: true},
	{test: /\bMDaemon\b(?:\s+(\d[\w.]*))?/i, name: 'MDaemon', disclosed: true},
	{test: /\bIceWarp\b(?:\s+(\d[\w.]*))?/i, name: 'IceWarp', disclosed: true},
	{test: /\bSmarterMail\b/i, name: 'SmarterMail', disclosed: true},
	{test: /\bAxigen\b/i, name: 'Axigen', disclosed: true},
	{test: /\bCommuniGate\b/i, name: 'CommuniGate Pro', disclosed: true},
	{test: /\bCourier\b/i, name: 'Courier', disclosed: true},
	{test: /\bLotus Domino\b|\bDomino\b/i, name: 'HCL Domino', disclosed: true},
	{test: /\bpphosted\.com\b|\bProofpoint\b/i, name: 'Proofpoint', disclosed: false},
	{test: /\bmimecast\b/i, name: 'Mimecast', disclosed: false},
	{test: /\bbarracuda\b/i, name: 'Barracuda', disclosed: true},
	{test: /\bmessagelabs\b|\bSymantec\b/i, name: 'Broadcom Email Security', disclosed: false},
	{test: /\bamazonses\b|\bAmazon SES\b/i, name: 'Amazon SES', disclosed: false},
	{test: /\bmessagingengine\.com\b/i, name: 'Fastmail', disclosed: false},
	{test: /\bzoho\b/i, name: 'Zoho Mail', disclosed: false},
	{test: /\byahoo(?:dns)?\.(?:net|com)\b/i, name: 'Yahoo', disclosed: false},
	{test: /\bicloud\.com\b|\bme\.com\b/i, name: 'Apple iCloud', disclosed: false},
	{test: /\bSophos\b/i, name: 'Sophos', disclosed: true},
	{test: /\bIronPort\b|\biphmx\.com\b/i, name: 'Cisco Secure Email', disclosed: false},
];

export function detectSoftware(banner?: string, ehlo?: string, extensions: Extension[] = []): Software | undefined {
	const text = [banner, ehlo, ...extensions.map(extension => [extension.keyword, ...extension.params].join(' '))].filter(Boolean).join('\n');
	for (const pattern of patterns) {
		const match = pattern.test.exec(text);
		if (match) {
			const version = versionOf(match[1]);
			return {name: match[1] ? `${pattern.name} ${match[1]}` : pattern.name, ...(version ? {version} : {}), disclosed: pattern.disclosed};
		}
	}

	return undefined;
}

/**
 * The version in what followed the product's name: Sendmail's "8.17.1.9/8.17.1.9" is the
 * binary's version, then its configuration's; a trailing full stop ends the sentence.
 */
function versionOf(text: string | undefined): string | undefined {
	const version = text?.split('/')[0]?.replace(/[.;,]+$/, '');
	return version && /^\d/.test(version) ? version : undefined;
}
