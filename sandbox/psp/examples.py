"""Seed 001's examples, for the payment-app OpenAPI document."""

from sandbox.protocol import SEED_ADDRESS
from sandbox.protocol import SEED_CUSTOMER as CUSTOMER

PURCHASE_INFO = {
    "insurance": "1",
    "itemTotal": "100",
    "shipping": "1",
    "taxTotal": "1",
    "discount": "1",
    "handling": "1",
    "shippingDiscount": "0.0",
    "items": [
        {
            "unitPrice": "1.0",
            "imgUrl": "http://xxxx.com",
            "quantity": "2",
            "name": "Black Cotton T-Shirt and White Denim Shorts",
            "description": "Casual Black Cotton T-Shirt and White Denim Shorts for Everyday Wear",
            "tax": "2.0",
            "category": "1",
            "sku": "107369095352924",
            "virtualProduct": "false",
        }
    ],
}
CARD_PAYMENT = {
    "purchaseInfo": PURCHASE_INFO,
    "amount": "200.00",
    "clientDetails": {
        "acceptLanguage": "zh,en-US;q=0.9,en;q=0.8,zh-CN;q=0.7",
        "ipAddress": "10.5.2.2",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/138.0.0.0 Safari/537.36",
    },
    "test": "true",
    "manualCapture": "true",
    "paymentId": "PI00202410161331562671",
    "paymentMethod": {
        "data": {
            "cipherText": "I/ehfE/1SkDx/i8qJgoe/qXaRV+fyaVIeEL7D+5PWiPtOgZZAQ/GWvRbI7kgOV0dCkH/"
            "uhb0Nlq4sns6GWgf7GeiezxKjPdaJqqbdnYvb3y98SG6DWzCDTc+Za6bpkk2uAg=",
            "salt": "GENSTORE-HKDF-SALT",
            "ephemeralPublicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECYaybEr5VfuEUOTBN5iYi3FLDh"
            "VUx0s1k6K4iUqk+rgnHRovbXKlItHNzTeGSSevunb8HdQEaPclqUfAps07Uw==",
            "suit": "GENSTORE-V1",
            "returnUrl": "https://www.xxx.shop/pay/result",
            "iv": "GUdwmcbLCp+4hHMr",
        }
    },
    "currency": "USD",
    "customer": CUSTOMER,
}
# The offsite example's buyer lives in New York, with the phone number the card example's has.
OFFSITE_ADDRESS = {**SEED_ADDRESS, "phoneNumber": "+8618800008888", "city": "New York"}
OFFSITE_PAYMENT = {
    "purchaseInfo": {
        "insurance": "0.0",
        "itemTotal": "50.0",
        "shipping": "0.0",
        "taxTotal": "5.5",
        "discount": "0.0",
        "handling": "0.0",
        "shippingDiscount": "0.0",
        "items": [
            {
                "unitPrice": "1.0",
                "imgUrl": "http://xx.com",
                "quantity": "2",
                "name": "Black Cotton T-Shirt and White Denim Shorts",
                "description": "Casual Black Cotton T-Shirt and White Denim Shorts for "
                "Everyday Wear",
                "tax": "1.0",
                "category": "1",
                "sku": "107369095352924",
                "virtualProduct": "true",
            }
        ],
    },
    "amount": "100.80",
    "test": "true",
    "manualCapture": "true",
    "paymentId": "PI00202410161331562671344",
    "paymentMethod": {
        "data": {
            "cancelUrl": "http://test.genstore.ai/xx",
            "returnUrl": "https://www.xxx.shop/pay/result",
        }
    },
    "currency": "USD",
    "customer": {
        "phoneNumber": "+8618800008888",
        "shippingAddress": OFFSITE_ADDRESS,
        "billingAddress": {**OFFSITE_ADDRESS, "company": "inter"},
        "email": "xx@gmail.com",
    },
}
CAPTURE = {"amount": "200", "test": "true", "paymentId": "2222", "captureId": "1111"}
VOID = {"test": "true", "voidId": "11122", "paymentId": "222"}
REFUND = {"amount": "100", "test": "true", "paymentId": "1111", "refundId": "1111"}
