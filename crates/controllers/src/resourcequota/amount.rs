//! Summing quantities as upstream's `quota.Add`: exact to the milli-unit, the sum keeping the
//! format of its first non-zero addend, printed canonically ("500m", "128Mi", "3").

use std::collections::BTreeMap;

use api::quantity::{Quantity, QuantityFormat};

/// An amount of one resource, in thousandths, with the format it prints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    milli: i128,
    format: QuantityFormat,
}

/// Amounts by resource name (`requests.cpu`, `pods`, ...).
pub type Amounts = BTreeMap<String, Amount>;

impl Amount {
    pub const ZERO: Amount = Amount {
        milli: 0,
        format: QuantityFormat::DecimalSI,
    };

    /// A count of objects.
    pub fn count(count: usize) -> Amount {
        Amount {
            milli: i128::try_from(count).unwrap_or(i128::MAX / 1000) * 1000,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// Quantity text as found in a spec; None when it does not parse.
    pub fn parse(text: &str) -> Option<Amount> {
        let quantity = Quantity::parse(text).ok()?;
        Some(Amount {
            milli: quantity.milli_value(),
            format: quantity.format(),
        })
    }

    pub fn milli(&self) -> i128 {
        self.milli
    }

    /// Adds `other`; a zero amount takes the other's format, as upstream's `Quantity.Add`.
    pub fn add(&mut self, other: Amount) {
        if self.milli == 0 {
            self.format = other.format;
        }
        self.milli = self.milli.saturating_add(other.milli);
    }

    /// Upstream's canonical text.
    pub fn canonical(&self) -> String {
        let whole = self.milli / 1000;
        if self.format == QuantityFormat::BinarySI && self.milli % 1000 == 0 && whole.abs() >= 1024
        {
            if whole % 1024 != 0 {
                return whole.to_string();
            }
            if let Ok(quantity) = Quantity::parse(&format!("{}Ki", whole / 1024)) {
                return quantity.canonical();
            }
        }
        let text = match self.format {
            QuantityFormat::DecimalExponent => format!("{}e-3", self.milli),
            _ => format!("{}m", self.milli),
        };
        Quantity::parse(&text)
            .map(|q| q.canonical())
            .unwrap_or_else(|_| text.clone())
    }
}

/// Adds every amount of `from` into `into` (upstream's `quota.Add`).
pub fn add_all(into: &mut Amounts, from: &Amounts) {
    for (name, amount) in from {
        into.entry(name.clone())
            .or_insert(Amount::ZERO)
            .add(*amount);
    }
}

/// Keeps the larger amount of each resource (upstream's `maxResourceList`).
pub fn max_all(into: &mut Amounts, from: &Amounts) {
    for (name, amount) in from {
        match into.get_mut(name) {
            Some(current) if current.milli >= amount.milli => {}
            Some(current) => *current = *amount,
            None => {
                into.insert(name.clone(), *amount);
            }
        }
    }
}

/// Parses a spec's resource list, skipping quantities that do not parse.
pub fn parse_list(
    list: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Amounts {
    list.into_iter()
        .flatten()
        .filter_map(|(name, q)| Some((name.clone(), Amount::parse(&q.0)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(texts: &[&str]) -> String {
        let mut total = Amount::ZERO;
        for text in texts {
            total.add(Amount::parse(text).unwrap());
        }
        total.canonical()
    }

    #[test]
    fn sums_print_canonically() {
        assert_eq!(sum(&[]), "0");
        assert_eq!(sum(&["100m", "400m"]), "500m");
        assert_eq!(sum(&["500m", "0.5"]), "1");
        assert_eq!(sum(&["1", "250m"]), "1250m");
        assert_eq!(sum(&["64Mi", "64Mi"]), "128Mi");
        assert_eq!(sum(&["512Mi", "512Mi"]), "1Gi");
        assert_eq!(sum(&["1536"]), "1536");
        assert_eq!(sum(&["100M", "100M"]), "200M");
        assert_eq!(sum(&["1e3"]), "1e3");
        assert_eq!(sum(&["1Ki", "1"]), "1025");
        assert_eq!(Amount::count(3).canonical(), "3");
    }

    #[test]
    fn the_first_non_zero_addend_decides_the_format() {
        let mut total = Amount::ZERO;
        total.add(Amount::parse("1Gi").unwrap());
        assert_eq!(total.canonical(), "1Gi");
        let mut total = Amount::parse("1G").unwrap();
        total.add(Amount::parse("1Gi").unwrap());
        assert_eq!(total.canonical(), "2073741824");
    }

    #[test]
    fn max_keeps_the_larger() {
        let mut into: Amounts = [("cpu".to_string(), Amount::parse("1").unwrap())].into();
        let from: Amounts = [
            ("cpu".to_string(), Amount::parse("2").unwrap()),
            ("memory".to_string(), Amount::parse("1Gi").unwrap()),
        ]
        .into();
        max_all(&mut into, &from);
        assert_eq!(into["cpu"].canonical(), "2");
        assert_eq!(into["memory"].canonical(), "1Gi");
    }
}
