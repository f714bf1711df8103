//! Kubernetes `resource.Quantity`: parsing ("100m", "1.5Gi", "1e3"), exact comparison and the
//! canonical text the API server answers with ("0.5" becomes "500m", "1024Mi" becomes "1Gi").

use std::cmp::Ordering;

/// Upstream's `ErrFormatWrong` text.
pub const QUANTITY_FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Why a quantity did not parse; its text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", QUANTITY_FORMAT_ERROR)]
pub struct QuantityError;

/// How the quantity was written, which decides how it is printed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityFormat {
    /// "Ki", "Mi", ... suffixes.
    BinarySI,
    /// "m", "k", "M", ... suffixes or none.
    DecimalSI,
    /// "e3", "E-2".
    DecimalExponent,
}

/// An exact decimal amount: `mantissa * 10^exponent`, with the format it was written in.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    mantissa: i128,
    exponent: i32,
    format: QuantityFormat,
}

/// The smallest unit a quantity keeps (nano); finer amounts round away from zero.
const MIN_EXPONENT: i32 = -9;

impl Quantity {
    /// Parses quantity text as upstream's `resource.ParseQuantity`.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (whole, fraction) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
            return Err(QuantityError);
        }
        let (binary_power, decimal_shift, format) = parse_suffix(suffix)?;
        let mut mantissa: i128 = 0;
        for digit in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(digit - b'0')))
                .ok_or(QuantityError)?;
        }
        let fraction_len = i32::try_from(fraction.len()).map_err(|_| QuantityError)?;
        let mut exponent = decimal_shift - fraction_len;
        for _ in 0..binary_power {
            mantissa = mantissa.checked_mul(1024).ok_or(QuantityError)?;
        }
        if negative {
            mantissa = -mantissa;
        }
        if exponent < MIN_EXPONENT {
            let divisor = pow10(MIN_EXPONENT - exponent).ok_or(QuantityError)?;
            let rounded = mantissa.abs() / divisor + i128::from(mantissa.abs() % divisor != 0);
            mantissa = if mantissa < 0 { -rounded } else { rounded };
            exponent = MIN_EXPONENT;
        }
        Ok(Quantity {
            mantissa,
            exponent,
            format,
        })
    }

    /// A quantity from its JSON form: a string, or a bare number.
    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, QuantityError> {
        match value {
            serde_json::Value::String(text) => Quantity::parse(text),
            serde_json::Value::Number(number) => Quantity::parse(&number.to_string()),
            _ => Err(QuantityError),
        }
    }

    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// Whether the amount is a whole number.
    pub fn is_integer(&self) -> bool {
        if self.exponent >= 0 {
            return true;
        }
        match pow10(-self.exponent) {
            Some(divisor) => self.mantissa % divisor == 0,
            None => self.mantissa == 0,
        }
    }

    /// The amount in thousandths, rounded up as upstream's `MilliValue`, saturating.
    pub fn milli_value(&self) -> i128 {
        let shift = self.exponent + 3;
        if shift >= 0 {
            pow10(shift)
                .and_then(|p| self.mantissa.checked_mul(p))
                .unwrap_or(if self.mantissa < 0 {
                    i128::MIN
                } else {
                    i128::MAX
                })
        } else {
            let divisor = pow10(-shift).unwrap_or(i128::MAX);
            let whole = self.mantissa / divisor;
            if self.mantissa % divisor > 0 {
                whole + 1
            } else {
                whole
            }
        }
    }

    /// The canonical text, as upstream's `Quantity.String()`.
    pub fn canonical(&self) -> String {
        if self.mantissa == 0 {
            return "0".to_string();
        }
        if self.format == QuantityFormat::BinarySI {
            if let Some(text) = self.binary_text() {
                return text;
            }
        }
        let (mut mantissa, mut exponent) = (self.mantissa, self.exponent);
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        let max_exponent = if self.format == QuantityFormat::DecimalExponent {
            i32::MAX
        } else {
            18
        };
        while exponent.rem_euclid(3) != 0 || exponent > max_exponent {
            match mantissa.checked_mul(10) {
                Some(m) => mantissa = m,
                None => break,
            }
            exponent -= 1;
        }
        let suffix = if self.format == QuantityFormat::DecimalExponent {
            if exponent == 0 {
                String::new()
            } else {
                format!("e{exponent}")
            }
        } else {
            decimal_suffix(exponent).to_string()
        };
        format!("{mantissa}{suffix}")
    }

    /// "Ki".."Ei" text when the amount is a whole number of at least 1024 in magnitude.
    fn binary_text(&self) -> Option<String> {
        if !self.is_integer() {
            return None;
        }
        let mut whole = if self.exponent >= 0 {
            self.mantissa.checked_mul(pow10(self.exponent)?)?
        } else {
            self.mantissa / pow10(-self.exponent)?
        };
        if whole.abs() < 1024 {
            return None;
        }
        let mut power = 0;
        while power < 6 && whole % 1024 == 0 {
            whole /= 1024;
            power += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
        Some(format!("{whole}{suffix}"))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let common = self.exponent.min(other.exponent);
        let scale =
            |q: &Quantity| pow10(q.exponent - common).and_then(|p| q.mantissa.checked_mul(p));
        match (scale(self), scale(other)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => {
                let approx = |q: &Quantity| q.mantissa as f64 * 10f64.powi(q.exponent);
                approx(self)
                    .partial_cmp(&approx(other))
                    .unwrap_or(Ordering::Equal)
            }
        }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Quantity, QuantityError> {
        Quantity::parse(text)
    }
}

fn pow10(power: i32) -> Option<i128> {
    10i128.checked_pow(u32::try_from(power).ok()?)
}

/// (powers of 1024, powers of 10, format) of a suffix.
fn parse_suffix(suffix: &str) -> Result<(u32, i32, QuantityFormat), QuantityError> {
    let decimal = |shift| Ok((0, shift, QuantityFormat::DecimalSI));
    let binary = |power| Ok((power, 0, QuantityFormat::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        _ => {
            let digits = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))
                .ok_or(QuantityError)?;
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(QuantityError);
            }
            let shift: i32 = digits.parse().map_err(|_| QuantityError)?;
            Ok((0, shift, QuantityFormat::DecimalExponent))
        }
    }
}

fn decimal_suffix(exponent: i32) -> &'static str {
    match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let cases = [
            ("100m", "100m"),
            ("0.5", "500m"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("1e3", "1e3"),
            ("128974848", "128974848"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("2000M", "2G"),
            ("512", "512"),
            ("0", "0"),
            ("-1", "-1"),
            ("0.0000000001", "1n"),
            ("100Ki", "100Ki"),
            ("1.5", "1500m"),
            ("+7", "7"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Quantity::parse(input).map(|q| q.canonical()),
                Ok(expected.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "abc", "1.2.3", "1Zi", "1e", "m", "1 Gi", ".", "1e1.5"] {
            assert_eq!(
                Quantity::parse(bad).map(|q| q.canonical()),
                Err(QuantityError),
                "{bad}"
            );
        }
        assert_eq!(QuantityError.to_string(), QUANTITY_FORMAT_ERROR);
    }

    #[test]
    fn compares_exactly() {
        let q = |t: &str| Quantity::parse(t).map_err(|e| e.to_string());
        assert_eq!(q("1"), q("1000m"));
        assert!(q("1Gi").unwrap() > q("1G").unwrap());
        assert!(q("100m").unwrap() < q("0.2").unwrap());
        assert_eq!(q("1k"), q("1e3"));
        assert!(q("1.5").unwrap().milli_value() == 1500);
        assert!(!q("1.5").unwrap().is_integer());
    }
}
